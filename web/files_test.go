package web

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"hazardmap/api"
	"hazardmap/geo"
)

// TestFilesInBrowser runs map/test/files.mjs in headless Chromium against
// the real handler stack over the seed data, with a duty contact, the
// equipment on one underpass and a keeper on one depot: the public's
// popup has no contact, a crew's has a tap-to-call link; a crew downloads
// an Excel and a CSV file from the 表格 panel; a planner dry-runs an
// edited CSV there and imports its good rows. Screenshots and downloads
// go to test-output/files-*.
func TestFilesInBrowser(t *testing.T) {
	node := browserOrSkip(t)

	ctx := context.Background()
	store := seededStore(t)
	const (
		point, depot = "wp-underpass-xinghua", "depot-suohe"
		name, phone  = "赵测试值守", "0371-86572555转8"
		tel, keeper  = "tel:037186572555;ext=8", "钱测试保管"
	)
	for c, p := range map[string]geo.Patch{
		geo.WaterloggingPoints: {Properties: map[string]any{"duty_contact_name": name, "duty_contact_phone": phone,
			"equipment": []any{map[string]any{"item": "排水泵", "quantity": 2.0, "unit": "台"}}}},
		geo.Depots: {Properties: map[string]any{"keeper_name": keeper, "keeper_phone": "13912345678"}},
	} {
		id := map[string]string{geo.WaterloggingPoints: point, geo.Depots: depot}[c]
		f, err := store.Feature(ctx, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Patch(ctx, c, id, f.Version, p); err != nil {
			t.Fatalf("Patch(%s) = %v", id, err)
		}
	}
	_, plannerToken, err := geo.IssueToken(ctx, store, "browser test planner API", geo.RolePlanner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(store, api.Options{Map: Handler(""), CacheBytes: api.DefaultCacheBytes,
		WritesPerMinute: api.DefaultWritesPerMinute, FileBuilds: 1}))
	defer srv.Close()

	out := runScript(t, node, "test/files.mjs", 4*time.Minute,
		"HM_BASE_URL="+srv.URL,
		"HM_CREW_CODE="+signInCode(t, store, "城建局一队", geo.RoleCrew),
		"HM_PLANNER_CODE="+signInCode(t, store, "规划科 王工", geo.RolePlanner),
		"HM_PLANNER_TOKEN="+plannerToken,
		"HM_POINT="+point, "HM_DEPOT="+depot,
		"HM_CONTACT_NAME="+name, "HM_CONTACT_PHONE="+phone, "HM_CONTACT_TEL="+tel, "HM_KEEPER_NAME="+keeper,
	)
	t.Logf("node test/files.mjs:\n%s", out)
}

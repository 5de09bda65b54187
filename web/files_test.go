package web

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"hazardmap/api"
	"hazardmap/geo"
	"hazardmap/geo/embedded"
)

// TestFilesInBrowser runs map/test/files.mjs in headless Chromium against
// the real handler stack over the seed data, with a duty contact, the
// equipment on one underpass and a keeper on one depot: the public's
// popup has no contact, a crew's has a tap-to-call link; a crew downloads
// an Excel and a CSV file from the 表格 panel; a planner dry-runs an
// edited CSV there and imports its good rows. Screenshots and downloads
// go to test-output/files-*.
func TestFilesInBrowser(t *testing.T) {
	node := nodeOrSkip(t)
	_, err := os.Stat(chromium)
	needTool(t, chromium, err == nil)
	_, err = os.Stat("map/node_modules/playwright-core/package.json")
	needTool(t, "web/map/node_modules (npm ci)", err == nil)

	ctx := context.Background()
	store, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatalf("embedded.Open = %v", err)
	}
	t.Cleanup(func() { store.Close() })
	seedData(t, store)
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
	code := func(who string, role geo.Role) string {
		_, c, err := geo.IssueSignInCode(ctx, store, who, role, time.Hour, 0, time.Now())
		if err != nil {
			t.Fatalf("IssueSignInCode(%s) = %v", who, err)
		}
		return c
	}
	_, plannerToken, err := geo.IssueToken(ctx, store, "browser test planner API", geo.RolePlanner, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.NewServer(store, api.Options{Map: Handler(""), CacheBytes: api.DefaultCacheBytes,
		WritesPerMinute: api.DefaultWritesPerMinute, FileBuilds: 1}))
	defer srv.Close()

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(root, "test-output")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(tctx, node, "test/files.mjs")
	cmd.Dir = "map"
	cmd.Env = append(os.Environ(),
		"HM_BASE_URL="+srv.URL,
		"HM_OUT_DIR="+outDir,
		"HM_CHROMIUM="+chromium,
		"HM_CREW_CODE="+code("城建局一队", geo.RoleCrew),
		"HM_PLANNER_CODE="+code("规划科 王工", geo.RolePlanner),
		"HM_PLANNER_TOKEN="+plannerToken,
		"HM_POINT="+point, "HM_DEPOT="+depot,
		"HM_CONTACT_NAME="+name, "HM_CONTACT_PHONE="+phone, "HM_CONTACT_TEL="+tel, "HM_KEEPER_NAME="+keeper,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node test/files.mjs: %v\n%s", err, out)
	}
	t.Logf("node test/files.mjs:\n%s", out)
}

package cap

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Validate checks doc against CAP-v1.2.xsd with xmllint (Debian's
// libxml2-utils). Without xmllint the test is skipped, unless CI is set:
// there it fails (scripts/install-test-deps installs it).
func Validate(t testing.TB, doc []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not found under CI: scripts/install-test-deps installs libxml2-utils")
		}
		t.Skip("xmllint not found: install libxml2-utils (scripts/install-test-deps)")
	}
	f := filepath.Join(t.TempDir(), "alert.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", SchemaPath(t), f).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint: %v\n%s\n%s", err, out, doc)
	}
}

// SchemaPath returns the path of CAP-v1.2.xsd beside this file.
func SchemaPath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs("CAP-v1.2.xsd")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var t0 = time.Date(2024, 8, 18, 9, 0, 0, 0, geo.ChinaTime)

func lifecycle() []geo.Alert {
	planner := geo.Actor{ID: "tok-1", Name: "市防办值班 <张三> & 李四", Role: geo.RolePlanner}
	a := geo.NewAlert("gauge-yinmakeng", geo.Condition{Kind: geo.AlertFloodLimit, Value: 149.65, Limit: 149.5, Period: geo.PeriodMain, At: t0}, t0, geo.SystemActor())
	a.ID = "0123456789abcdef0123"
	b, _ := a.Apply(geo.AlertTransition{Action: geo.ActionEscalate}, t0.Add(30*time.Minute), geo.SystemActor())
	c, _ := b.Apply(geo.AlertTransition{Action: geo.ActionAcknowledge, Note: "已通知水库管理员，开闸泄洪"}, t0.Add(35*time.Minute), planner)
	d, _ := c.Apply(geo.AlertTransition{Action: geo.ActionResolve, Note: "水位 149.40 米，回落至汛限水位以下"}, t0.Add(3*time.Hour), geo.SystemActor())
	return []geo.Alert{a, b, c, d}
}

func TestLifecycleValidates(t *testing.T) {
	g := geo.Gauge{ID: "gauge-yinmakeng", Name: "饮马坑水库", Township: "贾峪镇", Datum: "1985国家高程基准"}
	site := Site{Point: &orb.Point{113.3, 34.7}, PrecisionM: 500, Description: "贾峪镇"}
	wantTypes := []string{"Alert", "Update", "Update", "Cancel"}
	for i, a := range lifecycle() {
		doc, err := Encode(a, g, site, Options{Web: "https://hazardmap.example/"})
		if err != nil {
			t.Fatal(err)
		}
		Validate(t, doc)
		var m Alert
		if err := xml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if m.MsgType != wantTypes[i] || m.Identifier != Identifier(a.ID, int64(i+1)) {
			t.Errorf("message %d: %s %s, want %s %s", i+1, m.MsgType, m.Identifier, wantTypes[i], Identifier(a.ID, int64(i+1)))
		}
		if n := strings.Count(m.References, " ") + 1; i > 0 && n != i {
			t.Errorf("message %d references %d earlier messages, want %d: %s", i+1, n, i, m.References)
		}
		if i == 0 && m.References != "" {
			t.Errorf("the first message references %q", m.References)
		}
	}
	// Stable: the same step encodes to the same bytes.
	a := lifecycle()[2]
	x, _ := Encode(a, g, site, Options{})
	y, _ := Encode(a.Clone(), g, site, Options{})
	if !bytes.Equal(x, y) {
		t.Error("two encodings of one step differ")
	}
	if !bytes.Contains(x, []byte("<sent>2024-08-18T09:35:00+08:00</sent>")) || !bytes.Contains(x, []byte("<severity>Extreme</severity>")) {
		t.Errorf("acknowledged escalated message:\n%s", x)
	}
}

func TestEveryKindValidates(t *testing.T) {
	for _, k := range geo.AlertKinds() {
		c := geo.Condition{Kind: k, Value: 2, Limit: 1, At: t0}
		if k == geo.AlertSilent {
			c = geo.Condition{Kind: k, Value: -1, Limit: 20}
		}
		a := geo.NewAlert("g", c, t0, geo.SystemActor())
		a.ID = "a1"
		doc, err := Encode(a, geo.Gauge{ID: "g"}, Site{}, Options{Status: "Exercise", Sender: "hazardmap@xingyang"})
		if err != nil {
			t.Fatal(err)
		}
		Validate(t, doc)
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []Options{{Sender: "a b"}, {Sender: "a,b"}, {Status: "Real"}} {
		if err := o.Check(); err == nil {
			t.Errorf("Check(%+v) = nil", o)
		}
	}
	if _, err := Message(geo.Alert{ID: "x"}, geo.Gauge{}, Site{}, Options{}); err == nil {
		t.Error("Message(alert without steps) = nil error")
	}
}

func TestTimeHasOffsetNotZ(t *testing.T) {
	if got := Time(time.Date(2024, 8, 18, 1, 0, 0, 999, time.UTC)); got != "2024-08-18T09:00:00+08:00" {
		t.Errorf("Time = %s", got)
	}
}

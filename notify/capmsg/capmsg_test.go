package capmsg_test

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
	"hazardmap/notify/capmsg"
	"hazardmap/notify/capmsg/captest"
)

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
	site := capmsg.Site{Point: &orb.Point{113.3, 34.7}, PrecisionM: 500, Description: "贾峪镇"}
	wantTypes := []string{"Alert", "Update", "Update", "Cancel"}
	for i, a := range lifecycle() {
		doc, err := capmsg.Encode(a, g, site, capmsg.Options{Web: "https://hazardmap.example/"})
		if err != nil {
			t.Fatal(err)
		}
		captest.Validate(t, doc)
		var m capmsg.Alert
		if err := xml.Unmarshal(doc, &m); err != nil {
			t.Fatal(err)
		}
		if m.MsgType != wantTypes[i] || m.Identifier != capmsg.Identifier(a.ID, int64(i+1)) {
			t.Errorf("message %d: %s %s, want %s %s", i+1, m.MsgType, m.Identifier, wantTypes[i], capmsg.Identifier(a.ID, int64(i+1)))
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
	x, _ := capmsg.Encode(a, g, site, capmsg.Options{})
	y, _ := capmsg.Encode(a.Clone(), g, site, capmsg.Options{})
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
		doc, err := capmsg.Encode(a, geo.Gauge{ID: "g"}, capmsg.Site{}, capmsg.Options{Status: "Exercise", Sender: "hazardmap@xingyang"})
		if err != nil {
			t.Fatal(err)
		}
		captest.Validate(t, doc)
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []capmsg.Options{{Sender: "a b"}, {Sender: "a,b"}, {Status: "Real"}} {
		if err := o.Check(); err == nil {
			t.Errorf("Check(%+v) = nil", o)
		}
	}
	if _, err := capmsg.Message(geo.Alert{ID: "x"}, geo.Gauge{}, capmsg.Site{}, capmsg.Options{}); err == nil {
		t.Error("capmsg.Message(alert without steps) = nil error")
	}
}

func TestTimeHasOffsetNotZ(t *testing.T) {
	if got := capmsg.Time(time.Date(2024, 8, 18, 1, 0, 0, 999, time.UTC)); got != "2024-08-18T09:00:00+08:00" {
		t.Errorf("Time = %s", got)
	}
}

// Package capmsg encodes the alerts of hazardmap as OASIS Common Alerting
// Protocol 1.2 messages (the format China's warning-message exchange
// standard GB/T 35965.1 is based on): one message per step of an alert —
// msgType Alert when it opens, Update when it is escalated or
// acknowledged, Cancel when it is resolved — each referencing every
// earlier message of the same alert.
//
// Identifiers are stable: the message of version v of alert id is always
// "hazardmap.<id>.<v>", sent at the time of that step, so that a feed
// built twice, or by two instances, says the same thing. CAP-v1.2.xsd
// beside this file is the official schema the tests validate against
// (SOURCE.md).
package capmsg

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"hazardmap/geo"
)

// Namespace is the CAP 1.2 XML namespace.
const Namespace = "urn:oasis:names:tc:emergency:cap:1.2"

// Options describe the sender of the messages.
type Options struct {
	// Sender identifies the sender (CAP sender): no spaces, commas, '<'
	// or '&'; e.g. "hazardmap@xingyang". Default "hazardmap".
	Sender string
	// SenderName is the human-readable sender; default 荥阳市防汛风险地图.
	SenderName string
	// Status is the CAP status: Actual (default), Exercise, System, Test
	// or Draft. Drills (演练) send Exercise.
	Status string
	// Web, when set, is the URL of the map, given as each info's web.
	Web string
}

func (o Options) withDefaults() Options {
	if o.Sender == "" {
		o.Sender = "hazardmap"
	}
	if o.SenderName == "" {
		o.SenderName = "荥阳市防汛风险地图"
	}
	if o.Status == "" {
		o.Status = "Actual"
	}
	return o
}

// Check reports options that would make invalid messages.
func (o Options) Check() error {
	o = o.withDefaults()
	if strings.ContainsAny(o.Sender, " ,<&\t\r\n") {
		return fmt.Errorf("cap: sender %q must not contain spaces, commas, '<' or '&'", o.Sender)
	}
	switch o.Status {
	case "Actual", "Exercise", "System", "Test", "Draft":
	default:
		return fmt.Errorf("cap: status %q is not one of Actual, Exercise, System, Test, Draft", o.Status)
	}
	return nil
}

// Alert is a CAP 1.2 alert message.
type Alert struct {
	XMLName    xml.Name `xml:"urn:oasis:names:tc:emergency:cap:1.2 alert"`
	Identifier string   `xml:"identifier"`
	Sender     string   `xml:"sender"`
	Sent       string   `xml:"sent"`
	Status     string   `xml:"status"`
	MsgType    string   `xml:"msgType"`
	Scope      string   `xml:"scope"`
	Note       string   `xml:"note,omitempty"`
	References string   `xml:"references,omitempty"`
	Incidents  string   `xml:"incidents,omitempty"`
	Info       []Info   `xml:"info"`
}

// Info is a CAP info block.
type Info struct {
	Language     string   `xml:"language"`
	Category     []string `xml:"category"`
	Event        string   `xml:"event"`
	ResponseType []string `xml:"responseType,omitempty"`
	Urgency      string   `xml:"urgency"`
	Severity     string   `xml:"severity"`
	Certainty    string   `xml:"certainty"`
	Audience     string   `xml:"audience,omitempty"`
	EventCode    []Value  `xml:"eventCode,omitempty"`
	Effective    string   `xml:"effective,omitempty"`
	SenderName   string   `xml:"senderName,omitempty"`
	Headline     string   `xml:"headline,omitempty"`
	Description  string   `xml:"description,omitempty"`
	Instruction  string   `xml:"instruction,omitempty"`
	Web          string   `xml:"web,omitempty"`
	Parameter    []Value  `xml:"parameter,omitempty"`
	Area         []Area   `xml:"area,omitempty"`
}

// Value is a CAP valueName/value pair.
type Value struct {
	ValueName string `xml:"valueName"`
	Value     string `xml:"value"`
}

// Area is a CAP area block.
type Area struct {
	AreaDesc string   `xml:"areaDesc"`
	Circle   []string `xml:"circle,omitempty"`
	Geocode  []Value  `xml:"geocode,omitempty"`
}

// Time formats t as CAP wants it: China time with its offset, whole
// seconds, never "Z" (CAP 1.2 §3.3.2).
func Time(t time.Time) string { return t.In(geo.ChinaTime).Format("2006-01-02T15:04:05-07:00") }

// Identifier returns the identifier of the message of version v of alert
// id.
func Identifier(id string, v int64) string { return "hazardmap." + id + "." + strconv.FormatInt(v, 10) }

// Site is where a gauge is, for the message's area: its location and
// how far off it may be (location_precision_m); nil Point when unknown.
type Site struct {
	Point       *orb.Point
	PrecisionM  float64
	Description string // township, river; the gauge's name is added
}

// Message returns the CAP message of alert a at its current version, for
// gauge g at site. The sender is o's.
func Message(a geo.Alert, g geo.Gauge, site Site, o Options) (Alert, error) {
	o = o.withDefaults()
	if err := o.Check(); err != nil {
		return Alert{}, err
	}
	if a.Version < 1 || int(a.Version) != len(a.Steps) {
		return Alert{}, fmt.Errorf("cap: alert %s has version %d and %d steps", a.ID, a.Version, len(a.Steps))
	}
	step := a.Steps[a.Version-1]
	m := Alert{Identifier: Identifier(a.ID, a.Version), Sender: o.Sender, Sent: Time(step.At), Status: o.Status,
		Scope: "Public", Incidents: Identifier(a.ID, 1)}
	switch {
	case a.Version == 1:
		m.MsgType = "Alert"
	case a.State == geo.AlertResolved:
		m.MsgType = "Cancel"
	default:
		m.MsgType = "Update"
	}
	var refs []string
	for v := int64(1); v < a.Version; v++ {
		refs = append(refs, o.Sender+","+Identifier(a.ID, v)+","+Time(a.Steps[v-1].At))
	}
	m.References = strings.Join(refs, " ")
	name := g.Name
	if name == "" {
		name = a.GaugeID
	}
	cond := geo.Condition{Kind: a.Kind, Value: a.Value, Limit: a.Limit, Period: a.Period, At: a.At}
	info := Info{Language: "zh-CN", Event: a.Kind.TitleZH(), Certainty: "Observed", SenderName: o.SenderName,
		Headline: name + a.Kind.TitleZH(), Web: o.Web, Effective: Time(a.Opened)}
	info.Category, info.Urgency, info.Severity = classify(a)
	var desc []string
	desc = append(desc, name+"："+cond.Describe()+"（"+a.At.In(geo.ChinaTime).Format("1月2日15:04")+"）。")
	if a.At.IsZero() {
		desc[0] = name + "：" + cond.Describe() + "。"
	}
	for _, s := range a.Steps[1:] {
		desc = append(desc, stepText(s))
	}
	info.Description = strings.Join(desc, "\n")
	switch m.MsgType {
	case "Cancel":
		info.ResponseType = []string{"AllClear"}
		info.Headline += "（已解除）"
		m.Note = "已解除：" + step.Note
	default:
		info.ResponseType = []string{"Monitor"}
		if !a.Escalated.IsZero() {
			info.Headline += "（已升级）"
			info.Audience = "市防汛抗旱指挥部及相关乡镇、水利局"
		} else {
			info.Audience = "防汛值班人员"
		}
		if st, ok := a.Acknowledged(); ok {
			info.Instruction = "已由" + st.Actor.Name + "确认：" + st.Note
		} else {
			info.Instruction = "请值班人员立即核实并在系统中确认。"
		}
	}
	info.Parameter = []Value{{"gauge_id", a.GaugeID}, {"alert_kind", string(a.Kind)}, {"alert_state", string(a.State)}}
	switch a.Kind {
	case geo.AlertRising:
		info.Parameter = append(info.Parameter, Value{"rise_m_per_h", num(a.Value)}, Value{"limit_m_per_h", num(a.Limit)})
	case geo.AlertSilent:
		info.Parameter = append(info.Parameter, Value{"silent_limit_min", num(a.Limit)})
	default:
		info.Parameter = append(info.Parameter, Value{"level_m", num(a.Value)}, Value{"limit_m", num(a.Limit)})
		if g.Datum != "" {
			info.Parameter = append(info.Parameter, Value{"datum", g.Datum})
		}
		if a.Period != "" {
			info.Parameter = append(info.Parameter, Value{"period", geo.PeriodTitleZH(a.Period)})
		}
	}
	area := Area{AreaDesc: strings.TrimSpace(name + " " + site.Description)}
	if site.Point != nil {
		// CAP circle: "lat,lon radius" with the radius in km; the
		// location's precision, so that the area says how far off it
		// may be.
		area.Circle = []string{fmt.Sprintf("%s,%s %s", num(site.Point[1]), num(site.Point[0]), num(site.PrecisionM/1000))}
	}
	info.Area = []Area{area}
	m.Info = []Info{info}
	return m, nil
}

// classify returns the category, urgency and severity of a: levels are
// meteorological (CAP "Met" includes floods), a silent gauge is the
// monitoring infrastructure; an escalated alert is one severity higher.
func classify(a geo.Alert) (category []string, urgency, severity string) {
	levels := []string{"Minor", "Moderate", "Severe", "Extreme"}
	var s int
	category, urgency = []string{"Met"}, "Immediate"
	switch a.Kind {
	case geo.AlertGuaranteed:
		s = 3
	case geo.AlertFloodLimit:
		s = 2
	case geo.AlertWarning, geo.AlertRising:
		s = 1
	case geo.AlertSilent:
		category, urgency, s = []string{"Infra"}, "Expected", 0
	}
	if !a.Escalated.IsZero() && s < 3 {
		s++
	}
	return category, urgency, levels[s]
}

func stepText(s geo.AlertStep) string {
	when := s.At.In(geo.ChinaTime).Format("1月2日15:04")
	switch s.Action {
	case geo.ActionEscalate:
		return when + " 未确认，已升级。"
	case geo.ActionAcknowledge:
		return when + " " + s.Actor.Name + " 确认：" + s.Note
	case geo.ActionResolve:
		by := s.Actor.Name
		if s.Actor.ID == geo.SystemID {
			by = "系统"
		}
		return when + " " + by + " 解除：" + s.Note
	}
	return when + " " + string(s.Action)
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// Encode returns Message(a, g, site, o) as an XML document.
func Encode(a geo.Alert, g geo.Gauge, site Site, o Options) ([]byte, error) {
	m, err := Message(a, g, site, o)
	if err != nil {
		return nil, err
	}
	out, err := xml.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cap: encode %s: %w", m.Identifier, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

package notify

import (
	"fmt"
	"strings"

	"hazardmap/geo"
)

// title returns the gauge's name and the alert's kind, e.g.
// "饮马坑水库 超汛限水位".
func title(a geo.Alert, g geo.Gauge) string {
	name := g.Name
	if name == "" {
		name = a.GaugeID
	}
	return name + " " + a.Kind.TitleZH()
}

// facts returns the lines every message carries: what the rule found,
// when, where.
func facts(a geo.Alert, g geo.Gauge) []string {
	c := geo.Condition{Kind: a.Kind, Value: a.Value, Limit: a.Limit, Period: a.Period, At: a.At}
	lines := []string{c.Describe()}
	var where []string
	if !a.At.IsZero() {
		where = append(where, a.At.In(geo.ChinaTime).Format("1月2日15:04"))
	}
	for _, s := range []string{g.Township, g.River} {
		if s != "" {
			where = append(where, s)
		}
	}
	if len(where) > 0 {
		lines = append(lines, strings.Join(where, " · "))
	}
	return lines
}

// stepLine says what the alert's latest step was.
func stepLine(a geo.Alert) string {
	s := a.Steps[a.Version-1]
	when := s.At.In(geo.ChinaTime).Format("15:04")
	switch s.Action {
	case geo.ActionOpen:
		return "请值班人员立即核实，并在系统中确认。"
	case geo.ActionEscalate:
		return fmt.Sprintf("%s 已升级：开启后 %s，仍无人确认。", when, s.Note)
	case geo.ActionAcknowledge:
		return fmt.Sprintf("%s 已由 %s 确认：%s", when, s.Actor.Name, s.Note)
	case geo.ActionResolve:
		by := s.Actor.Name
		if s.Actor.ID == geo.SystemID {
			by = "系统"
		}
		return fmt.Sprintf("%s 已解除（%s）：%s", when, by, s.Note)
	}
	return string(s.Action)
}

// Text returns the WeCom markdown of alert a's latest step.
func Text(a geo.Alert, g geo.Gauge) string {
	color := "warning"
	head := "【水情告警】"
	switch a.Steps[a.Version-1].Action {
	case geo.ActionResolve:
		color, head = "info", "【告警解除】"
	case geo.ActionAcknowledge:
		color, head = "comment", "【告警已确认】"
	case geo.ActionEscalate:
		head = "【告警升级】"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s<font color=\"%s\">**%s**</font>\n", head, color, escape(title(a, g)))
	for _, l := range facts(a, g) {
		fmt.Fprintf(&b, "> %s\n", escape(l))
	}
	b.WriteString(escape(stepLine(a)))
	return b.String()
}

// PlainText returns the WeCom text (no markdown) of alert a's latest
// step, for messages that mention @all.
func PlainText(a geo.Alert, g geo.Gauge) string {
	lines := append([]string{"【告警升级】" + title(a, g)}, facts(a, g)...)
	return strings.Join(append(lines, stepLine(a)), "\n")
}

// escape keeps user text from being read as WeCom markdown or HTML.
func escape(s string) string {
	return strings.NewReplacer("<", "＜", ">", "＞", "*", "＊", "[", "［", "]", "］", "`", "｀").Replace(s)
}

// Package notify turns water levels into alerts that someone must
// acknowledge, and delivers them: its Engine runs the alert rules of geo
// on every reading and on a ticker (silent gauges, escalation), writes
// each step of an alert through the store (audited, on the Ledger, so
// /events carries it), and hands each step to the outbound channels — a
// WeCom group robot (notify/wecom) — recording every delivery's result in
// the store. notify/capmsg encodes the same steps as CAP 1.2 messages.
//
// The API's handlers stay thin: a reading is Engine.AddReading, a CSV
// import Engine.ImportReadings, an acknowledgement Engine.Acknowledge, a
// planner's resolution Engine.Resolve.
//
// Several API instances on one PostGIS each run an Engine. They never
// open the same alert twice: the store opens an alert only if no
// unresolved one of its gauge and kind exists (a partial unique index on
// PostGIS, see migrations/005_water.sql), and the one that did not open
// it neither delivers it. Escalations and automatic resolutions are
// compare-and-swap writes on the alert's version: of two instances that
// try at once one wins, the other gets a Conflict and does nothing. So no
// advisory lock is needed, and an instance that dies mid-tick leaves
// nothing half done for the others.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"hazardmap/geo"
	"hazardmap/notify/wecom"
)

// Queue takes messages for an outbound channel without blocking
// (*wecom.Client).
type Queue interface {
	Enqueue(m wecom.Message) error
}

// Channel is an outbound channel.
type Channel struct {
	// Name is Delivery.Channel, e.g. "wecom" or "wecom_escalation".
	Name  string
	Queue Queue
	// Escalations marks the second channel of escalation: it gets only
	// escalations (with @all); the other channels get every step.
	Escalations bool
}

// Options configure an Engine.
type Options struct {
	// Now is the engine's clock (time.Now by default); tests inject one.
	// Alert steps carry its times.
	Now func() time.Time
	// EscalateAfter is how long an alert may stay unacknowledged before
	// it escalates; 0 never escalates.
	EscalateAfter time.Duration
	// Interval is how often Run ticks (default DefaultInterval).
	Interval time.Duration
	// Channels receive the steps; none is fine (the Ledger still has
	// them).
	Channels []Channel
	// Logger logs what fails in the background; nil logs nothing.
	Logger *slog.Logger
	// OnDelivery, when set, is called after each delivery is recorded
	// (tests wait on it).
	OnDelivery func(geo.Delivery)
}

// DefaultInterval is the tick of Run: a silent gauge or an overdue
// escalation is noticed within a minute.
const DefaultInterval = time.Minute

// DefaultEscalateAfter is the escalation time cmd uses unless told
// otherwise: half an hour without anyone acknowledging a level alert in
// a flood is long.
const DefaultEscalateAfter = 30 * time.Minute

// recordTimeout bounds recording one delivery.
const recordTimeout = 10 * time.Second

// Engine evaluates and delivers alerts. It is safe for concurrent use.
type Engine struct {
	store geo.Store
	opts  Options
	log   *slog.Logger
	// mu serializes evaluations of one process, so that a reading and a
	// tick evaluating the same gauge do not race each other (other
	// instances are kept apart by the store, see the package comment).
	mu sync.Mutex
}

// New returns an Engine on store.
func New(store geo.Store, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, opts: opts, log: log}
}

// system returns ctx acting as the system: the engine's own steps are
// recorded as such, not as the sensor whose reading caused them, and do
// not answer the Idempotency-Key of that reading's request (the reading
// did).
func system(ctx context.Context) context.Context {
	return geo.WithActor(geo.WithoutIdempotency(ctx), geo.SystemActor())
}

// AddReading stores r as the actor of ctx (geo.WaterStore.AddReading) and
// evaluates its gauge at once, so that an alert opens in the same
// request that brought the reading. It returns the reading and the alert
// steps it caused. An evaluation that fails after the reading was stored
// is logged, not returned: the reading stands, and the next tick
// evaluates again.
func (e *Engine) AddReading(ctx context.Context, r geo.Reading) (geo.Reading, []geo.Alert, error) {
	rec, err := e.store.AddReading(ctx, r)
	if err != nil {
		return rec, nil, err
	}
	steps, err := e.Evaluate(ctx, rec.GaugeID)
	if err != nil {
		e.log.Error("notify: evaluate after a reading", "gauge", rec.GaugeID, "err", err)
	}
	return rec, steps, nil
}

// ImportReadings stores rs (geo.WaterStore.ImportReadings) and evaluates
// each gauge they touched once, on its latest reading.
func (e *Engine) ImportReadings(ctx context.Context, rs []geo.Reading) (int, error) {
	n, err := e.store.ImportReadings(ctx, rs)
	if err != nil {
		return n, err
	}
	var gauges []string
	for _, r := range rs {
		if !slices.Contains(gauges, r.GaugeID) {
			gauges = append(gauges, r.GaugeID)
		}
	}
	for _, g := range gauges {
		if _, err := e.Evaluate(ctx, g); err != nil {
			e.log.Error("notify: evaluate after an import", "gauge", g, "err", err)
		}
	}
	return n, nil
}

// Evaluate runs the rules on gauge now: it opens an alert for every
// condition that holds and has none unresolved, and resolves the
// unresolved alerts whose condition no longer holds. It returns the
// steps it made (each already delivered).
func (e *Engine) Evaluate(ctx context.Context, gauge string) ([]geo.Alert, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, err := e.store.Feature(ctx, geo.Gauges, gauge)
	if err != nil {
		return nil, fmt.Errorf("notify: gauge %s: %w", gauge, err)
	}
	g, err := geo.GaugeOf(f)
	if err != nil {
		return nil, fmt.Errorf("notify: gauge %s: %w", gauge, err)
	}
	recent, _, err := e.store.Readings(ctx, gauge, geo.ReadingQuery{Newest: true, Limit: 2})
	if err != nil {
		return nil, fmt.Errorf("notify: readings of %s: %w", gauge, err)
	}
	active, _, err := e.store.Alerts(ctx, geo.AlertQuery{GaugeID: gauge, Active: true})
	if err != nil {
		return nil, fmt.Errorf("notify: alerts of %s: %w", gauge, err)
	}
	now := e.opts.Now()
	conds := geo.Evaluate(g, recent, now)
	var steps []geo.Alert
	for _, c := range conds {
		if slices.ContainsFunc(active, func(a geo.Alert) bool { return a.Kind == c.Kind }) {
			continue
		}
		a, opened, err := e.store.OpenAlert(system(ctx), geo.NewAlert(gauge, c, now, geo.SystemActor()))
		if err != nil {
			return steps, fmt.Errorf("notify: open %s alert of %s: %w", c.Kind, gauge, err)
		}
		if opened {
			e.deliver(a, g)
			steps = append(steps, a)
		}
	}
	for _, a := range active {
		if slices.ContainsFunc(conds, func(c geo.Condition) bool { return c.Kind == a.Kind }) {
			continue
		}
		note := clearedNote(g, a, recent)
		r, err := e.store.ChangeAlert(system(ctx), a.ID, a.Version, geo.AlertTransition{Action: geo.ActionResolve, Note: note}, now)
		if geo.KindOf(err) == geo.Conflict {
			continue // changed meanwhile (another instance, a planner): the next evaluation sees it
		}
		if err != nil {
			return steps, fmt.Errorf("notify: resolve alert %s: %w", a.ID, err)
		}
		e.deliver(r, g)
		steps = append(steps, r)
	}
	return steps, nil
}

// clearedNote says why alert a of gauge g resolved by itself.
func clearedNote(g geo.Gauge, a geo.Alert, recent []geo.Reading) string {
	if len(recent) == 0 {
		return "条件不再成立"
	}
	r := recent[0]
	at := r.At.In(geo.ChinaTime).Format("1月2日15:04")
	level := strconv.FormatFloat(r.Level, 'f', 2, 64)
	switch a.Kind {
	case geo.AlertFloodLimit:
		if w, ok := g.FloodLimitAt(r.At); ok {
			return fmt.Sprintf("%s 水位 %s 米，回落至汛限水位 %.2f 米以下", at, level, w.Level)
		}
		return fmt.Sprintf("%s 不在汛限水位时段内", at)
	case geo.AlertWarning, geo.AlertGuaranteed:
		return fmt.Sprintf("%s 水位 %s 米，回落至%s以下", at, level, strings.TrimPrefix(a.Kind.TitleZH(), "超"))
	case geo.AlertRising:
		return fmt.Sprintf("%s 水位 %s 米，涨率回落", at, level)
	case geo.AlertSilent:
		return fmt.Sprintf("%s 收到水位数据（%s 米）", at, level)
	}
	return "条件不再成立"
}

// Tick evaluates every gauge (silent gauges; alerts whose condition
// cleared), resolves the unresolved alerts of gauges that no longer
// exist, and escalates the alerts left unacknowledged for EscalateAfter.
// Run calls it every Interval; tests call it with an injected clock.
func (e *Engine) Tick(ctx context.Context) error {
	var errs []error
	var gauges []*geo.Feature
	err := e.store.Read(ctx, func(v geo.View) error {
		var err error
		gauges, _, err = v.Features(ctx, geo.Gauges, geo.Query{})
		return err
	})
	if err != nil {
		return fmt.Errorf("notify: tick: gauges: %w", err)
	}
	exists := map[string]bool{}
	for _, f := range gauges {
		exists[f.ID] = true
		if _, err := e.Evaluate(ctx, f.ID); err != nil {
			errs = append(errs, err)
		}
	}
	active, _, err := e.store.Alerts(ctx, geo.AlertQuery{Active: true})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("notify: tick: alerts: %w", err))...)
	}
	now := e.opts.Now()
	for _, a := range active {
		var (
			t   geo.AlertTransition
			g   = geo.Gauge{ID: a.GaugeID}
			got geo.Alert
		)
		switch {
		case !exists[a.GaugeID]:
			t = geo.AlertTransition{Action: geo.ActionResolve, Note: "水位站已删除"}
		case a.EscalationDue(now, e.opts.EscalateAfter):
			t = geo.AlertTransition{Action: geo.ActionEscalate, Note: fmt.Sprintf("%.0f 分钟未确认", now.Sub(a.Opened).Minutes())}
			if f, err := e.store.Feature(ctx, geo.Gauges, a.GaugeID); err == nil {
				g, _ = geo.GaugeOf(f)
			}
		default:
			continue
		}
		got, err = e.store.ChangeAlert(system(ctx), a.ID, a.Version, t, now)
		if geo.KindOf(err) == geo.Conflict {
			continue // another instance or a person was first
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: %s alert %s: %w", t.Action, a.ID, err))
			continue
		}
		e.deliver(got, g)
	}
	return errors.Join(errs...)
}

// Run ticks every Interval until ctx ends, logging what fails.
func (e *Engine) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.Interval)
	defer t.Stop()
	for {
		if err := e.Tick(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("notify: tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Acknowledge records that the actor of ctx (a named person) has seen
// alert id and is on it, with a note; version is the alert's version the
// person saw (0: any). Errors as geo.WaterStore.ChangeAlert.
func (e *Engine) Acknowledge(ctx context.Context, id string, version int64, note string) (geo.Alert, error) {
	return e.change(ctx, id, version, geo.AlertTransition{Action: geo.ActionAcknowledge, Note: note})
}

// Resolve closes alert id by hand (a planner), with a note.
func (e *Engine) Resolve(ctx context.Context, id string, version int64, note string) (geo.Alert, error) {
	return e.change(ctx, id, version, geo.AlertTransition{Action: geo.ActionResolve, Note: note})
}

func (e *Engine) change(ctx context.Context, id string, version int64, t geo.AlertTransition) (geo.Alert, error) {
	a, err := e.store.ChangeAlert(ctx, id, version, t, e.opts.Now())
	if err != nil {
		return a, err
	}
	g := geo.Gauge{ID: a.GaugeID}
	if f, err := e.store.Feature(ctx, geo.Gauges, a.GaugeID); err == nil {
		g, _ = geo.GaugeOf(f)
	}
	e.deliver(a, g)
	return a, nil
}

// deliver hands the step a has just taken to every channel that takes
// it; a channel whose queue is full gets a failed delivery recorded.
func (e *Engine) deliver(a geo.Alert, g geo.Gauge) {
	step := a.Steps[a.Version-1]
	for _, ch := range e.opts.Channels {
		if ch.Escalations && step.Action != geo.ActionEscalate {
			continue
		}
		m := wecom.Message{Key: Key(a.ID, a.Version), Text: Text(a, g),
			MentionAll: step.Action == geo.ActionEscalate && (ch.Escalations || !e.hasEscalationChannel())}
		if m.MentionAll {
			m.Text = PlainText(a, g)
		}
		if err := ch.Queue.Enqueue(m); err != nil {
			e.record(geo.Delivery{AlertID: a.ID, AlertVersion: a.Version, Channel: ch.Name, Attempts: 1, Batch: 1,
				Detail: "not sent: " + err.Error(), At: e.opts.Now()})
		}
	}
}

func (e *Engine) hasEscalationChannel() bool {
	return slices.ContainsFunc(e.opts.Channels, func(c Channel) bool { return c.Escalations })
}

// Recorder returns the wecom.Options.OnResult of channel name: it records
// one delivery per alert step the post carried.
func (e *Engine) Recorder(name string) func(wecom.Result) {
	return func(r wecom.Result) {
		for _, m := range r.Messages {
			id, v, ok := ParseKey(m.Key)
			if !ok {
				continue
			}
			e.record(geo.Delivery{AlertID: id, AlertVersion: v, Channel: name, OK: r.OK, Attempts: max(r.Attempts, 1),
				Detail: r.Detail, Batch: len(r.Messages), At: r.At})
		}
	}
}

func (e *Engine) record(d geo.Delivery) {
	if d.Detail == "" {
		d.Detail = "-"
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	d, err := e.store.RecordDelivery(ctx, d)
	if err != nil {
		e.log.Error("notify: record delivery", "alert", d.AlertID, "version", d.AlertVersion, "channel", d.Channel, "err", err)
		return
	}
	if !d.OK {
		e.log.Warn("notify: delivery failed", "alert", d.AlertID, "version", d.AlertVersion, "channel", d.Channel, "detail", d.Detail)
	}
	if e.opts.OnDelivery != nil {
		e.opts.OnDelivery(d)
	}
}

// Key returns the wecom.Message.Key of version v of alert id.
func Key(id string, v int64) string { return id + "/" + strconv.FormatInt(v, 10) }

// ParseKey reads a Key.
func ParseKey(k string) (id string, v int64, ok bool) {
	id, vs, found := strings.Cut(k, "/")
	v, err := strconv.ParseInt(vs, 10, 64)
	return id, v, found && err == nil && id != "" && v > 0
}

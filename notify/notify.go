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
// Delivery goes through the store's outbox (geo/outbox.go): every alert
// step is written together with the duty to deliver it, and a
// dispatcher (RunDelivery, on every instance) claims due steps with a
// lease, sends them, records each delivery and finishes them. A crash
// between a step's commit and its sending loses nothing: the step stays
// in the outbox and is claimed again once the lease runs out (at least
// once; the dedupe key is the alert's id, version and channel).
//
// Several API instances on one PostGIS each run an Engine. They never
// open the same alert twice: the store opens an alert only if no
// unresolved one of its gauge and kind exists (a partial unique index on
// PostGIS, see migrations/005_water.sql), and the outbox holds the step
// once; claims skip rows another instance holds (FOR UPDATE SKIP LOCKED). Escalations and automatic resolutions are
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

// Sender posts a batch of messages to an outbound channel and says how
// it went (*wecom.Client: rate-limited, retried with backoff).
type Sender interface {
	Send(ctx context.Context, batch []wecom.Message) wecom.Result
}

// Channel is an outbound channel.
type Channel struct {
	// Name is Delivery.Channel, e.g. "wecom" or "wecom_escalation".
	Name   string
	Sender Sender
	// Escalations marks the second channel of escalation: it gets only
	// escalations (with @all); the other channels get every step.
	Escalations bool
}

// Options configure an Engine.
type Options struct {
	// Now is the engine's clock (time.Now by default); tests inject one.
	// Alert steps carry its times, and the outbox is claimed by it.
	Now func() time.Time
	// EscalateAfter is how long an alert may stay unacknowledged before
	// it escalates; 0 never escalates.
	EscalateAfter time.Duration
	// Interval is how often Run ticks (default DefaultInterval).
	Interval time.Duration
	// DispatchInterval is how often Run looks at the outbox without being
	// told of a new step (default DefaultDispatchInterval): for steps
	// another instance wrote and for retries.
	DispatchInterval time.Duration
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

// Delivery from the outbox (see geo/outbox.go): a step is claimed with a
// lease of dispatchLease, sent, and finished; a step some channel did not
// take is tried again after retryBackoff (doubling to maxRetryBackoff),
// until giveUpAfter from its writing.
const (
	// DefaultDispatchInterval is how often the outbox is looked at when
	// nothing told the engine of a new step.
	DefaultDispatchInterval = 5 * time.Second
	// dispatchLease outlasts one round of sending: a robot's posts wait
	// for its rate limit and retry with backoff (wecom.Client.Send).
	dispatchLease = 10 * time.Minute
	// dispatchBatch caps the steps claimed at once.
	dispatchBatch = 100
	retryBackoff  = 30 * time.Second
	// maxRetryBackoff caps the pause between tries of one step.
	maxRetryBackoff = 15 * time.Minute
	// giveUpAfter ends the tries of a step no channel would take for a
	// day (a wrong webhook key): its failure is recorded.
	giveUpAfter = 24 * time.Hour
	// recordTimeout bounds the store calls of one round.
	recordTimeout = 30 * time.Second
)

// Engine evaluates and delivers alerts. It is safe for concurrent use.
type Engine struct {
	store geo.Store
	opts  Options
	log   *slog.Logger
	// mu serializes evaluations of one process, so that a reading and a
	// tick evaluating the same gauge do not race each other (other
	// instances are kept apart by the store, see the package comment).
	mu sync.Mutex
	// poke wakes the dispatcher when this process wrote a step.
	poke chan struct{}
	// dispatching serializes the dispatcher's rounds in this process.
	dispatching sync.Mutex
}

// New returns an Engine on store.
func New(store geo.Store, opts Options) *Engine {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.DispatchInterval <= 0 {
		opts.DispatchInterval = DefaultDispatchInterval
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, opts: opts, log: log, poke: make(chan struct{}, 1)}
}

// Now returns the time on the engine's clock: the clock of alert steps.
func (e *Engine) Now() time.Time { return e.opts.Now() }

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
// condition that holds, has none unresolved and is not held by a
// person's resolution (geo.Held), and resolves the unresolved alerts
// whose condition no longer persists (geo.Persists: with the gauge's
// deadband). It returns the steps it made; each is in the outbox, and
// the dispatcher is told.
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
	var steps []geo.Alert
	defer func() {
		if len(steps) > 0 {
			e.Poke()
		}
	}()
	for _, c := range geo.Evaluate(g, recent, now) {
		if slices.ContainsFunc(active, func(a geo.Alert) bool { return a.Kind == c.Kind }) {
			continue
		}
		held, err := e.held(ctx, g, c.Kind, now)
		if err != nil {
			return steps, err
		}
		if held {
			continue
		}
		a, opened, err := e.store.OpenAlert(system(ctx), geo.NewAlert(gauge, c, now, geo.SystemActor()))
		if err != nil {
			return steps, fmt.Errorf("notify: open %s alert of %s: %w", c.Kind, gauge, err)
		}
		if opened {
			steps = append(steps, a)
		}
	}
	for _, a := range active {
		if geo.Persists(g, a.Kind, recent, now) {
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
		steps = append(steps, r)
	}
	return steps, nil
}

// held reports whether an alert of kind k on g must wait (geo.Held): the
// latest alert of that gauge and kind was resolved by a person while its
// condition held, and it has not cleared since. Only then are the
// readings since that resolution read (at most a day's: geo.ManualHold).
func (e *Engine) held(ctx context.Context, g geo.Gauge, k geo.AlertKind, now time.Time) (bool, error) {
	last, _, err := e.store.Alerts(ctx, geo.AlertQuery{GaugeID: g.ID, Kind: k, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("notify: alerts of %s: %w", g.ID, err)
	}
	if len(last) == 0 {
		return false, nil
	}
	step, ok := last[0].ResolvedByPerson()
	if !ok || now.Sub(step.At) >= geo.ManualHold {
		return false, nil
	}
	before, _, err := e.store.Readings(ctx, g.ID, geo.ReadingQuery{To: step.At, Newest: true, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("notify: readings of %s: %w", g.ID, err)
	}
	var prev *geo.Reading
	if len(before) > 0 {
		prev = &before[0]
	}
	// The readings since, a page at a time (keyset: each page starts
	// just after the last one read); a reading that clears ends it.
	from := step.At
	for {
		page, _, err := e.store.Readings(ctx, g.ID, geo.ReadingQuery{From: from, Limit: geo.MaxReadingsPage})
		if err != nil {
			return false, fmt.Errorf("notify: readings of %s: %w", g.ID, err)
		}
		if !geo.Held(g, last[0], page, prev, now) {
			return false, nil
		}
		if len(page) < geo.MaxReadingsPage {
			return true, nil
		}
		prev = &page[len(page)-1]
		from = prev.At.Add(time.Microsecond)
	}
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
	changed := false
	for _, a := range active {
		var t geo.AlertTransition
		switch {
		case !exists[a.GaugeID]:
			t = geo.AlertTransition{Action: geo.ActionResolve, Note: "水位站已删除"}
		case a.EscalationDue(now, e.opts.EscalateAfter):
			t = geo.AlertTransition{Action: geo.ActionEscalate, Note: fmt.Sprintf("%.0f 分钟未确认", now.Sub(a.Opened).Minutes())}
		default:
			continue
		}
		_, err = e.store.ChangeAlert(system(ctx), a.ID, a.Version, t, now)
		if geo.KindOf(err) == geo.Conflict {
			continue // another instance or a person was first
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: %s alert %s: %w", t.Action, a.ID, err))
			continue
		}
		changed = true
	}
	if changed {
		e.Poke()
	}
	return errors.Join(errs...)
}

// Run ticks every Interval and delivers what the outbox holds
// (RunDelivery) until ctx ends, logging what fails.
func (e *Engine) Run(ctx context.Context) {
	go e.RunDelivery(ctx)
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
	e.Poke()
	return a, nil
}

// Poke tells the dispatcher (RunDelivery) that the outbox holds a new
// step, so that it is sent at once rather than at the next
// DispatchInterval.
func (e *Engine) Poke() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// RunDelivery delivers the outbox until ctx ends: at once when poked,
// else every DispatchInterval (steps of other instances, retries).
func (e *Engine) RunDelivery(ctx context.Context) {
	t := time.NewTicker(e.opts.DispatchInterval)
	defer t.Stop()
	for {
		for {
			n, err := e.Dispatch(ctx)
			if err != nil && ctx.Err() == nil {
				e.log.Error("notify: dispatch", "err", err)
			}
			if err != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-e.poke:
		case <-t.C:
		}
	}
}

// Dispatch runs one round of delivery: it claims the due steps of the
// outbox (oldest first, with a lease), sends each channel the steps it
// takes that it has not taken already (an OK delivery of the same alert,
// version and channel recorded: the dedupe key), as few posts as fit,
// records every delivery, and finishes each step — done when every
// channel took it (or after a day of trying), else due again after a
// backoff. It returns the number of steps claimed. Tests call it
// directly with an injected clock.
func (e *Engine) Dispatch(ctx context.Context) (int, error) {
	e.dispatching.Lock()
	defer e.dispatching.Unlock()
	claimed, err := e.store.ClaimPending(ctx, e.opts.Now(), dispatchLease, dispatchBatch)
	if err != nil {
		return 0, fmt.Errorf("notify: claim the outbox: %w", err)
	}
	if len(claimed) == 0 {
		return 0, nil
	}
	// What each channel is to send, and which steps it must still take.
	type job struct {
		p       geo.Pending
		missing map[string]bool // channel → not yet taken
		gone    bool            // the alert is not in the store (cannot be)
	}
	jobs := make([]*job, len(claimed))
	byKey := map[string]*job{}
	msgs := make(map[string][]wecom.Message, len(e.opts.Channels))
	var errs []error
	for i, p := range claimed {
		j := &job{p: p, missing: map[string]bool{}}
		jobs[i], byKey[Key(p.AlertID, p.AlertVersion)] = j, j
		a, err := e.store.Alert(ctx, p.AlertID)
		if geo.KindOf(err) == geo.NotFound {
			j.gone = true
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: alert %s: %w", p.AlertID, err))
			j.missing[""] = true // try again later
			continue
		}
		step, ok := a.AsOf(p.AlertVersion)
		if !ok {
			j.gone = true
			continue
		}
		done, err := e.store.Deliveries(ctx, p.AlertID)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: deliveries of %s: %w", p.AlertID, err))
			j.missing[""] = true
			continue
		}
		g := e.gauge(ctx, step.GaugeID)
		for _, ch := range e.opts.Channels {
			m, ok := e.message(ch, step, g)
			if !ok || slices.ContainsFunc(done, func(d geo.Delivery) bool {
				return d.OK && d.AlertVersion == p.AlertVersion && d.Channel == ch.Name
			}) {
				continue
			}
			j.missing[ch.Name] = true
			msgs[ch.Name] = append(msgs[ch.Name], m)
		}
	}
	for _, ch := range e.opts.Channels {
		for rest := msgs[ch.Name]; len(rest) > 0; {
			var batch []wecom.Message
			batch, rest = wecom.Batch(rest)
			r := ch.Sender.Send(ctx, batch)
			if ctx.Err() != nil {
				// Shutting down: release the claims, so that another
				// instance need not wait for the leases to run out.
				for _, j := range jobs {
					_ = e.store.FinishPending(context.WithoutCancel(ctx), j.p.ID, j.p.Attempts, e.opts.Now())
				}
				return len(claimed), ctx.Err()
			}
			for _, m := range r.Messages {
				id, v, ok := ParseKey(m.Key)
				if !ok {
					continue
				}
				e.record(geo.Delivery{AlertID: id, AlertVersion: v, Channel: ch.Name, OK: r.OK, Attempts: max(r.Attempts, 1),
					Detail: r.Detail, Batch: len(r.Messages), At: r.At})
				if j := byKey[m.Key]; j != nil && r.OK {
					delete(j.missing, ch.Name)
				}
			}
		}
	}
	now := e.opts.Now()
	for _, j := range jobs {
		retry := time.Time{}
		if len(j.missing) > 0 && !j.gone {
			if now.Sub(j.p.Created) < giveUpAfter {
				retry = now.Add(backoff(j.p.Attempts))
			} else {
				e.log.Error("notify: giving up delivering an alert step", "step", j.p.String(), "channels", len(j.missing))
			}
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		err := e.store.FinishPending(fctx, j.p.ID, j.p.Attempts, retry)
		cancel()
		if err != nil && geo.KindOf(err) != geo.Conflict {
			errs = append(errs, fmt.Errorf("notify: finish %v: %w", j.p, err))
		}
	}
	return len(claimed), errors.Join(errs...)
}

// backoff returns the pause before the next try of a step tried attempts
// times: retryBackoff, doubling, at most maxRetryBackoff.
func backoff(attempts int) time.Duration {
	d := retryBackoff
	for i := 1; i < attempts && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// gauge returns the typed gauge id for messages; just its id when it is
// gone.
func (e *Engine) gauge(ctx context.Context, id string) geo.Gauge {
	g := geo.Gauge{ID: id}
	if f, err := e.store.Feature(ctx, geo.Gauges, id); err == nil {
		if got, err := geo.GaugeOf(f); err == nil {
			g = got
		}
	}
	return g
}

// message returns the message of step a (at its version) for channel ch,
// and false when ch does not take that step (an escalation channel takes
// escalations only).
func (e *Engine) message(ch Channel, a geo.Alert, g geo.Gauge) (wecom.Message, bool) {
	step := a.Steps[a.Version-1]
	if ch.Escalations && step.Action != geo.ActionEscalate {
		return wecom.Message{}, false
	}
	m := wecom.Message{Key: Key(a.ID, a.Version), Text: Text(a, g),
		MentionAll: step.Action == geo.ActionEscalate && (ch.Escalations || !e.hasEscalationChannel())}
	if m.MentionAll {
		m.Text = PlainText(a, g)
	}
	return m, true
}

func (e *Engine) hasEscalationChannel() bool {
	return slices.ContainsFunc(e.opts.Channels, func(c Channel) bool { return c.Escalations })
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

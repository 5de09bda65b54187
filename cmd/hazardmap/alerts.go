package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"hazardmap/geo"
	"hazardmap/notify"
	"hazardmap/notify/wecom"
)

// alertConfig is what serve is told about water-level alerts.
type alertConfig struct {
	wecomURL, wecomEscalationURL string
	escalateAfter, interval      time.Duration
}

// alertSettings are the flags of the alert engine that serve starts
// (settings() lists them with the others).
func alertSettings() []setting {
	cmd := []string{"serve"}
	duration := func(field func(*config) *time.Duration, env string) func(*flag.FlagSet, *config, string, string, string) error {
		return func(fs *flag.FlagSet, c *config, name, def, help string) error {
			d, err := time.ParseDuration(def)
			if err != nil || d < 0 {
				return fmt.Errorf("%s=%q: want a duration such as 30m", env, def)
			}
			fs.DurationVar(field(c), name, d, help)
			return nil
		}
	}
	return []setting{
		{"wecom-url", "HAZARDMAP_WECOM_URL", "", "webhook of the WeCom (企业微信) group robot that gets every alert step; empty sends none", cmd,
			str(func(c *config) *string { return &c.alerts.wecomURL })},
		{"wecom-escalation-url", "HAZARDMAP_WECOM_ESCALATION_URL", "", "webhook of a second robot (a wider group) that gets escalations with @all; empty sends them to --wecom-url with @all", cmd,
			str(func(c *config) *string { return &c.alerts.wecomEscalationURL })},
		{"escalate-after", "HAZARDMAP_ESCALATE_AFTER", notify.DefaultEscalateAfter.String(), "how long an alert may stay unacknowledged before it escalates; 0 never escalates", cmd,
			duration(func(c *config) *time.Duration { return &c.alerts.escalateAfter }, "HAZARDMAP_ESCALATE_AFTER")},
		{"alert-interval", "HAZARDMAP_ALERT_INTERVAL", notify.DefaultInterval.String(), "how often every gauge is checked for silence and every alert for escalation", cmd,
			duration(func(c *config) *time.Duration { return &c.alerts.interval }, "HAZARDMAP_ALERT_INTERVAL")},
	}
}

// startAlerts builds the alert engine of serve with its WeCom channels
// and runs it (ticks and the outbox's dispatcher) until ctx ends.
func startAlerts(ctx context.Context, c *config, store geo.Store, log *slog.Logger) (*notify.Engine, error) {
	var chans []notify.Channel
	for _, ch := range []struct {
		name, flag, url string
		esc             bool
	}{
		{"wecom", "wecom-url", c.alerts.wecomURL, false},
		{"wecom_escalation", "wecom-escalation-url", c.alerts.wecomEscalationURL, true},
	} {
		if ch.url == "" {
			continue
		}
		cl, err := wecom.New(ch.url, wecom.Options{})
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", ch.flag, err)
		}
		chans = append(chans, notify.Channel{Name: ch.name, Sender: cl, Escalations: ch.esc})
	}
	interval := c.alerts.interval
	if interval == 0 {
		interval = notify.DefaultInterval
	}
	engine := notify.New(store, notify.Options{EscalateAfter: c.alerts.escalateAfter, Interval: interval,
		Channels: chans, Logger: log})
	go engine.Run(ctx)
	log.Info("alerts", "wecom_channels", len(chans), "escalate_after", c.alerts.escalateAfter, "interval", interval)
	return engine, nil
}

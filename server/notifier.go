package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/openclair/clair/config"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
)

// notifier builds the notifier service over the store, with a deliverer
// for every mechanism the configuration sets up (webhook, amqp, stomp).
func notifier(ctx context.Context, cfg *config.Config, st store.Store, log *slog.Logger) (*notify.Notifier, error) {
	ns, ok := st.(notify.Store)
	if !ok {
		return nil, fmt.Errorf("notifier: store %T keeps no notifications", st)
	}
	ds, err := notify.NewDeliverers(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n := &notify.Notifier{
		Store:            ns,
		Deliverers:       ds,
		PollInterval:     time.Duration(cfg.Notifier.PollInterval),
		DeliveryInterval: time.Duration(cfg.Notifier.DeliveryInterval),
		DisableSummary:   cfg.Notifier.DisableSummary,
		Logger:           log,
	}
	if w := cfg.Notifier.Webhook; w != nil {
		n.CallbackBase = w.Callback
	}
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name()
	}
	log.Info("notifier started", "deliverers", names, "disable_summary", n.DisableSummary)
	return n, nil
}

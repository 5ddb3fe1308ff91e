package plugins

// The notifier's delivery mechanisms ship with the binaries too: each
// registers itself with notify.RegisterDeliverer.
import (
	_ "github.com/openclair/clair/notify/amqp"
	_ "github.com/openclair/clair/notify/stomp"
	_ "github.com/openclair/clair/notify/webhook"
)

// Package notify is the model of Clair's notifications: when an update
// operation changes what a stored index report's vulnerability report would
// say, each (manifest, vulnerability) that appears is "added" and each that
// leaves is "removed". The types here are Clair v4's wire shapes (the
// notifier API's page and the AMQP/STOMP direct messages carry them as they
// are), and Deliverer is the contract every delivery mechanism implements.
package notify

import (
	"context"

	"github.com/openclair/clair/vuln"
)

// Reason says why a notification exists.
type Reason string

const (
	Added   Reason = "added"
	Removed Reason = "removed"
)

// Notification is one (manifest, vulnerability) change, as Clair's
// `GET /notifier/api/v1/notification/{id}` lists it.
type Notification struct {
	ID            string               `json:"id"`
	Manifest      string               `json:"manifest"`
	Reason        Reason               `json:"reason"`
	Vulnerability VulnerabilitySummary `json:"vulnerability"`
}

// VulnerabilitySummary is Clair's notification view of a vulnerability.
type VulnerabilitySummary struct {
	Name               string             `json:"name"`
	FixedInVersion     string             `json:"fixed_in_version"`
	Links              string             `json:"links"`
	Description        string             `json:"description"`
	NormalizedSeverity string             `json:"normalized_severity"`
	Package            *vuln.Package      `json:"package"`
	Distribution       *vuln.Distribution `json:"distribution"`
	Repository         *vuln.Repository   `json:"repository"`
}

// Delivery is one notification set (one update operation's notifications,
// Clair's "notification id") to hand to a receiver.
type Delivery struct {
	// ID is the set's id: receivers page it at Callback.
	ID string
	// Callback is the absolute URL of the set's first page
	// (<callback base>/<ID>), which callback-mode deliverers send.
	// It is a default: as Clair does, each mechanism with its own
	// `callback` setting sends that setting joined with ID instead.
	Callback string
	// Notifications reads the set's notifications, for direct-mode
	// deliverers that send them in the message itself.
	Notifications func(ctx context.Context) ([]Notification, error)
}

// Deliverer hands a notification set to a receiver. Deliver returns nil only
// once the receiver acknowledged it (a 2xx answer, a broker's publisher
// confirm or STOMP receipt): the notifier then records the delivery and
// never sends that set to this deliverer again. Any error is retried at the
// next delivery interval, so a receiver may see a set twice when its
// acknowledgement is lost (at least once).
type Deliverer interface {
	Name() string
	Deliver(ctx context.Context, d Delivery) error
}

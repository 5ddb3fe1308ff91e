package notify

import "time"

// Set is what the store keeps of one notification set besides its
// notifications.
type Set struct {
	ID        string
	Operation string // the update operation it describes
	Prev      string // the operation before it ("" for a feed's first)
	Feed      string
	Created   time.Time
	Count     int        // notifications in the set
	Read      *time.Time // when a client marked it read (DELETE), nil if not
	// Delivered lists the deliverers that acknowledged the set.
	Delivered []string
}

// Page is a window of a set's notifications: Next is the cursor of the
// next page, "" after the last.
type Page struct {
	Notifications []Notification
	Next          string
}

package date

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]time.Time{
		// As the real feeds write them (see the feeds' testdata).
		"2023-09-15 20:55:00":       time.Date(2023, 9, 15, 20, 55, 0, 0, time.UTC),
		"2018-01-05 02:39":          time.Date(2018, 1, 5, 2, 39, 0, 0, time.UTC),
		" 2019-10-23 ":              time.Date(2019, 10, 23, 0, 0, 0, 0, time.UTC),
		"2024-01-26T08:00:00+01:00": time.Date(2024, 1, 26, 7, 0, 0, 0, time.UTC),
		"":                          {},
		"yesterday":                 {},
	} {
		if got := Parse(in); !got.Equal(want) {
			t.Errorf("Parse(%q) = %v, want %v", in, got, want)
		}
	}
}

package sharedtest

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"
)

// EPSSScore is one CVE's score of EPSSDay.
type EPSSScore struct {
	ID   string  `json:"id"`
	EPSS float64 `json:"epss"`
}

// EPSSDay reads FIRST's EPSS scores of 2021-08-31 for every CVE (kept in
// vuls' JSON form: feeds/epss/epss-2021-08-31.vuls-json.gz), or skips the
// test where the shared data is absent.
func EPSSDay(t testing.TB) (date string, scores []EPSSScore) {
	t.Helper()
	fh, err := os.Open(Path(t, "feeds/epss/epss-2021-08-31.vuls-json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	var day struct {
		Date string      `json:"score_date"`
		Data []EPSSScore `json:"data"`
	}
	if err := json.NewDecoder(zr).Decode(&day); err != nil {
		t.Fatal(err)
	}
	return day.Date, day.Data
}

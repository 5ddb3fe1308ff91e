package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/openclair/clair/service"
)

// reportStreamer is implemented by service.Matcher: a report not yet
// cached is written as it is encoded (StreamReportJSON).
type reportStreamer interface {
	StreamReportJSON(ctx context.Context, manifest string, gz bool, start func() io.Writer) (*service.Encoded, error)
}

// reportJSON returns the digest's encoded report for getVulnReport to
// write, or, when the matcher streams and the report was not cached,
// answers the request itself and returns nil and no error. A large first
// report then starts to leave as soon as it is matched, and its encoding
// and compression overlap the sending.
func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request, digest string) (*service.Encoded, error) {
	rs, ok := s.Matcher.(reportStreamer)
	if !ok {
		return s.Matcher.ReportJSON(r.Context(), digest)
	}
	gz := acceptsGzip(r)
	streamed := false
	e, err := rs.StreamReportJSON(r.Context(), digest, gz, func() io.Writer {
		streamed = true
		h := w.Header()
		h.Set("Vary", "Accept, Accept-Encoding")
		if gz {
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "max-age="+strconv.Itoa(int(s.CacheAge.Seconds())))
		w.WriteHeader(http.StatusOK)
		return w
	})
	if !streamed {
		return e, err
	}
	if err != nil {
		// The status is sent: cut the answer short rather than let a
		// prefix pass for a report.
		s.log().Error("vulnerability report cut short", "manifest", digest, "error", err)
		panic(http.ErrAbortHandler)
	}
	return nil, nil
}

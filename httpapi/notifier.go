package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/notify"
	"github.com/openclair/clair/store"
)

// notificationPath is Clair v4's notifier API.
const notificationPath = "/notifier/api/v1/notification"

// Page sizes of the notifier APIs: a size outside [1, max] is refused
// (400), not clamped, so that a client's mistake is seen.
const (
	defaultPageSize   = 500 // Clair's
	maxPageSize       = 1000
	defaultV1Limit    = 10
	maxV1Limit        = 1000
	maxNotificationID = 128
)

// NotificationStore is what the notifier APIs read (notify.Store).
type NotificationStore interface {
	NotificationSet(ctx context.Context, id string) (notify.Set, error)
	Notifications(ctx context.Context, id string, after, limit int) ([]notify.Notification, int, error)
	MarkNotificationSetRead(ctx context.Context, id string, at time.Time) error
}

func (s *Server) notifierRoutes() []route {
	rs := []route{{notificationPath + "/{id}", map[string]http.HandlerFunc{
		http.MethodGet: s.getNotifications, http.MethodDelete: s.deleteNotifications}}}
	for _, prefix := range []string{"/v1", "/api/v1"} {
		rs = append(rs, route{prefix + "/notifications/{name}", map[string]http.HandlerFunc{
			http.MethodGet: s.getV1Notification, http.MethodDelete: s.deleteV1Notification}})
	}
	return rs
}

// notificationPage is Clair v4's page of a notification set.
type notificationPage struct {
	Page          pageInfo              `json:"page"`
	Notifications []notify.Notification `json:"notifications"`
}

// pageInfo: Next is absent on the last page.
type pageInfo struct {
	Size int    `json:"size"`
	Next string `json:"next,omitempty"`
}

// setErr gives a missing set its kind and a message naming it.
func setErr(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errkind.Wrap(errkind.NotFound, "notification "+id+" not found", err)
	}
	return err
}

func validSetID(id string) error {
	if id == "" || len(id) > maxNotificationID {
		return fmt.Errorf("notification id must be 1 to %d characters", maxNotificationID)
	}
	return nil
}

// intParam reads an optional integer query parameter within [1, max].
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s %q: want an integer from 1 to %d", name, v, max)
	}
	return n, nil
}

// cursor reads a page token: the opaque string a previous page gave.
func cursor(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 1 || strconv.Itoa(n) != tok {
		return 0, fmt.Errorf("next %q is not a page token this server gave", tok)
	}
	return n, nil
}

func (s *Server) getNotifications(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := validSetID(id); err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	size, err := intParam(r, "page_size", defaultPageSize, maxPageSize)
	if err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	after, err := cursor(r.URL.Query().Get("next"))
	if err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	ns, next, err := s.Notifications.Notifications(r.Context(), id, after, size)
	if err != nil {
		s.fail(w, r, setErr(id, err))
		return
	}
	p := notificationPage{Page: pageInfo{Size: len(ns)}, Notifications: ns}
	if p.Notifications == nil {
		p.Notifications = []notify.Notification{}
	}
	if next != 0 {
		p.Page.Next = strconv.Itoa(next)
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) deleteNotifications(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := validSetID(id); err != nil {
		apiFail(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.Notifications.MarkNotificationSetRead(r.Context(), id, time.Now().UTC()); err != nil {
		s.fail(w, r, setErr(id, err))
		return
	}
	w.WriteHeader(http.StatusOK)
}

// Classic (Clair v1/v2) notifications. A classic notification speaks of one
// vulnerability change with the layers it concerns; a set here holds many.
// So a classic page is one vulnerability of the set with up to Limit of its
// layers (Old for one that left the reports, New for one that entered),
// and NextPage walks the layers, then the next vulnerability.
type (
	v1Notification struct {
		Name     string                     `json:"Name,omitempty"`
		Created  string                     `json:"Created,omitempty"`
		Notified string                     `json:"Notified,omitempty"`
		Deleted  string                     `json:"Deleted,omitempty"`
		Limit    int                        `json:"Limit,omitempty"`
		Page     string                     `json:"Page,omitempty"`
		NextPage string                     `json:"NextPage,omitempty"`
		Old      *v1VulnerabilityWithLayers `json:"Old,omitempty"`
		New      *v1VulnerabilityWithLayers `json:"New,omitempty"`
	}
	v1VulnerabilityWithLayers struct {
		Vulnerability                         *v1Vulnerability     `json:"Vulnerability,omitempty"`
		OrderedLayersIntroducingVulnerability []v1OrderedLayerName `json:"OrderedLayersIntroducingVulnerability,omitempty"`
		LayersIntroducingVulnerability        []string             `json:"LayersIntroducingVulnerability,omitempty"`
	}
	v1OrderedLayerName struct {
		Index     int    `json:"Index"`
		LayerName string `json:"LayerName"`
	}
)

// maxV1Set bounds what a classic page reads of a set: grouping by
// vulnerability needs the whole set in memory.
const maxV1Set = 200_000

func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func (s *Server) getV1Notification(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := validSetID(name); err != nil {
		v1Fail(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := intParam(r, "limit", defaultV1Limit, maxV1Limit)
	if err != nil {
		v1Fail(w, http.StatusBadRequest, err.Error())
		return
	}
	group, offset, err := v1Page(r.URL.Query().Get("page"))
	if err != nil {
		v1Fail(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx := r.Context()
	set, err := s.Notifications.NotificationSet(ctx, name)
	if err != nil {
		s.v1NotifyFail(w, r, err)
		return
	}
	if set.Count > maxV1Set {
		v1Fail(w, http.StatusUnprocessableEntity, fmt.Sprintf("notification %s holds %d notifications, over the %d the classic API pages; use %s/%s", name, set.Count, maxV1Set, notificationPath, name))
		return
	}
	all, err := notify.All(ctx, s.Notifications, name)
	if err != nil {
		s.v1NotifyFail(w, r, err)
		return
	}
	// Group by vulnerability change, in the set's order.
	type groupT struct {
		n      notify.Notification
		layers []string
	}
	var groups []*groupT
	idx := map[string]int{}
	for _, n := range all {
		v := n.Vulnerability
		k := string(n.Reason) + "\x00" + v.Name + "\x00" + v.FixedInVersion + "\x00" + pkgName(v) + "\x00" + v.NormalizedSeverity
		i, ok := idx[k]
		if !ok {
			i = len(groups)
			idx[k] = i
			groups = append(groups, &groupT{n: n})
		}
		groups[i].layers = append(groups[i].layers, strings.TrimPrefix(n.Manifest, v1Prefix))
	}
	out := v1Notification{Name: set.ID, Created: unixString(set.Created), Limit: limit, Page: v1PageToken(group, offset)}
	if len(set.Delivered) > 0 {
		out.Notified = out.Created
	}
	if set.Read != nil {
		out.Deleted = unixString(*set.Read)
	}
	if group < len(groups) {
		g := groups[group]
		end := min(offset+limit, len(g.layers))
		if offset > len(g.layers) {
			offset = len(g.layers)
		}
		wl := &v1VulnerabilityWithLayers{Vulnerability: v1Vuln(g.n.Vulnerability), LayersIntroducingVulnerability: g.layers[offset:end]}
		for i, l := range wl.LayersIntroducingVulnerability {
			wl.OrderedLayersIntroducingVulnerability = append(wl.OrderedLayersIntroducingVulnerability, v1OrderedLayerName{Index: offset + i, LayerName: l})
		}
		if g.n.Reason == notify.Removed {
			out.Old = wl
		} else {
			out.New = wl
		}
		switch {
		case end < len(g.layers):
			out.NextPage = v1PageToken(group, end)
		case group+1 < len(groups):
			out.NextPage = v1PageToken(group+1, 0)
		}
	}
	writeJSON(w, http.StatusOK, map[string]v1Notification{"Notification": out})
}

func pkgName(v notify.VulnerabilitySummary) string {
	if v.Package == nil {
		return ""
	}
	return v.Package.Name
}

func v1Vuln(v notify.VulnerabilitySummary) *v1Vulnerability {
	out := &v1Vulnerability{Name: v.Name, Description: v.Description, Link: v.Links, Severity: v.NormalizedSeverity, FixedBy: v.FixedInVersion}
	if v.Distribution != nil {
		out.NamespaceName = v.Distribution.DID + ":" + v.Distribution.VersionID
	}
	return out
}

// v1PageToken is "<vulnerability index>-<layer offset>"; the first page
// has none.
func v1PageToken(group, offset int) string {
	if group == 0 && offset == 0 {
		return ""
	}
	return strconv.Itoa(group) + "-" + strconv.Itoa(offset)
}

func v1Page(tok string) (int, int, error) {
	if tok == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(tok, "-")
	g, err1 := strconv.Atoi(a)
	o, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || g < 0 || o < 0 || v1PageToken(g, o) != tok {
		return 0, 0, fmt.Errorf("page %q is not a page token this server gave", tok)
	}
	return g, o, nil
}

func (s *Server) deleteV1Notification(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := validSetID(name); err != nil {
		v1Fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.Notifications.MarkNotificationSetRead(r.Context(), name, time.Now().UTC()); err != nil {
		s.v1NotifyFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Server) v1NotifyFail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		v1Fail(w, http.StatusNotFound, err.Error())
		return
	}
	s.log().Error("notifications", "method", r.Method, "path", r.URL.Path, "err", err)
	v1Fail(w, http.StatusInternalServerError, "internal error")
}

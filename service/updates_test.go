package service

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/openclair/clair/errkind"
	"github.com/openclair/clair/store/sqlite"
)

func TestUpdateDiffKinds(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "u.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := &Updates{Store: st}
	_, err = u.UpdateDiff(ctx, "", "00000000-0000-0000-0000-000000000000")
	if errkind.Of(err) != errkind.NotFound || errkind.Public(err) == err.Error() {
		t.Errorf("unknown operation: %v (kind %v, public %q)", err, errkind.Of(err), errkind.Public(err))
	}
}

package scanner

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestBudget(t *testing.T) {
	img := NewBudget("image", 100, nil)
	a, b := NewBudget("layer", 80, img), NewBudget("layer", 80, img)
	if err := a.Take(70); err != nil {
		t.Fatal(err)
	}
	// a has 10 left of its own: its own budget refuses.
	if err := a.Take(20); !errors.Is(err, ErrBudget) || err.Error() != "over the layer budget of 80 B: budget exhausted" || a.RefusedByParent() {
		t.Errorf("a.Take(20) = %v, by parent %v", err, a.RefusedByParent())
	}
	// b has 80 of its own but the image only 30.
	if b.Left() != 30 || b.Fits(40) || !b.RefusedByParent() {
		t.Errorf("b: left %d, by parent %v", b.Left(), b.RefusedByParent())
	}
	if err := b.Take(40); !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "image budget of 100 B") {
		t.Errorf("b.Take(40) = %v", err)
	}
	// A refusal charges nothing.
	if err := b.Take(30); err != nil || img.Left() != 0 || b.Left() != 0 {
		t.Errorf("b.Take(30) = %v, left %d %d", err, img.Left(), b.Left())
	}
	// The reader fails the read that overspends.
	c := NewBudget("layer", 10, nil)
	n, err := io.Copy(io.Discard, c.Reader(strings.NewReader(strings.Repeat("x", 100))))
	if !errors.Is(err, ErrBudget) || n > 10 {
		t.Errorf("copied %d, %v", n, err)
	}
	var none *Budget
	if none.Take(1<<62) != nil || !none.Fits(1<<62) || none.RefusedByParent() {
		t.Error("a nil budget limits")
	}
}

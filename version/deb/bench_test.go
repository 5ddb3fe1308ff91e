package deb

import "testing"

func BenchmarkCompare(b *testing.B) {
	x, _ := Parse("1:2.36.1-8+deb11u1")
	y, _ := Parse("1:2.36.1-8+deb11u2")
	for b.Loop() {
		x.Cmp(y)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		Parse("1:2.36.1-8+deb11u1")
	}
}

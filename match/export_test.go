package match

// SetRuns bounds m's concurrent runs (see Matcher.runs).
func SetRuns(m *Matcher, n int) { m.runs = n }

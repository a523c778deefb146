package app

import "log/slog"

// A fleet the window runs (simulate run --control) competes for the same
// cores as the window that shows it: on a 2-core laptop 10,000 devices take
// most of one, and the window's refreshes stalled for up to 2 s whenever
// both wanted the machine at once (issue 13). The fleet yields: it runs
// at background priority, so the window wins every contended moment and
// the devices still get all the time the window leaves.
//
// backgroundNice is the Unix niceness of such a fleet; Windows gets the
// matching BELOW_NORMAL priority class.
const backgroundNice = 10

// yieldToWindow lowers this process's priority; a failure only costs the
// window some smoothness, so it is logged and the run goes on.
func yieldToWindow(log *slog.Logger) {
	if err := lowerPriority(); err != nil {
		log.Warn("the fleet runs at normal priority; the window may stutter under a large fleet", "error", err)
	}
}

package realtime

import (
	"context"
	"time"
)

// Sleep waits for d unless ctx ends first, and reports whether it waited
// the whole d (a d of zero or less returns at once, true unless ctx has
// ended). The live cluster's fault timeline and its proxy's deliveries wait
// with it.
func Sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

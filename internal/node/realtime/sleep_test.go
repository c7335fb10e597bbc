package realtime

import (
	"context"
	"testing"
	"time"
)

// TestSleep: Sleep reports whether it waited the whole time: yes for a
// short wait or none, no once its context has ended.
func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if !Sleep(ctx, 0) || !Sleep(ctx, -time.Second) || !Sleep(ctx, time.Millisecond) {
		t.Error("a wait of zero, less or a millisecond did not run to its end")
	}
	cancel()
	if Sleep(ctx, 0) || Sleep(ctx, time.Hour) {
		t.Error("a wait whose context had ended reported that it ran to its end")
	}
}

// Package browser drives headless Chromium (Debian's chromium package) for
// the tests that load raftsim's HTML pages and for the screenshots in
// results/. It starts the browser the one way that works on a closed
// network, collects what the page writes to its console as errors, and
// ends every process of the browser when it is closed.
//
// browser is for tests and tools only: nothing that ships may import it.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// ErrNoChromium says that no Chromium was found.
var ErrNoChromium = errors.New("browser: no Chromium found (on Debian: apt-get install chromium)")

// candidates are where Chromium may be, best first. Debian's /usr/bin/chromium
// is a shell script that adds flags of its own and runs the binary below.
var candidates = []string{"/usr/lib/chromium/chromium", "chromium", "chromium-browser"}

// Find returns the path of a Chromium binary, or ErrNoChromium.
func Find() (string, error) {
	for _, c := range candidates {
		if path, err := exec.LookPath(c); err == nil {
			return path, nil
		}
	}
	return "", ErrNoChromium
}

// Browser is one headless Chromium with one tab.
type Browser struct {
	tab         context.Context
	closeTab    context.CancelFunc
	closeAlloc  context.CancelFunc
	mu          sync.Mutex
	consoleErrs []string
}

// Start starts headless Chromium with a window of width × height pixels
// and a fresh profile, and opens a blank tab.
//
// The flags keep the browser from reaching out: on a closed network its
// background connections (component updates, sync, QUIC probes) fail and
// fill the log, or stall the start. chromedp makes the fresh
// --user-data-dir itself because then, when the browser ends, it also kills
// the browser's helper processes that still use the directory and removes
// it.
func Start(width, height int) (*Browser, error) {
	path, err := Find()
	if err != nil {
		return nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(width, height),
	)
	allocCtx, closeAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, closeTab := chromedp.NewContext(allocCtx)
	b := &Browser{tab: tab, closeTab: closeTab, closeAlloc: closeAlloc}
	if err := chromedp.Do(tab); err != nil { // starts the browser, with no timeout on its life
		b.Close()
		return nil, fmt.Errorf("browser: starting %s: %w", path, err)
	}
	messages := chromedp.Console(tab)
	go func() {
		for m, err := range messages {
			if err != nil {
				return // the tab closed
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.consoleErrs = append(b.consoleErrs, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m))
				b.mu.Unlock()
			}
		}
	}()
	return b, nil
}

// Close ends the browser and every process it started, and removes its
// profile. It is safe to call more than once.
func (b *Browser) Close() {
	chromedp.Cancel(b.tab) // asks the browser to close, and waits until it has
	b.closeTab()
	b.closeAlloc() // kills what is left, waits for it, removes the profile
}

// Do runs actions in the tab, giving up after timeout.
func (b *Browser) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.tab, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Eval evaluates a JavaScript expression in the tab and decodes its value
// into a T.
func Eval[T any](b *Browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.tab, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// ConsoleErrors returns the errors and uncaught exceptions the pages have
// reported since the last call.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	errs := b.consoleErrs
	b.consoleErrs = nil
	return errs
}

// Screenshot loads url and writes a PNG of what the window shows to path.
func (b *Browser) Screenshot(url, path string) error {
	if err := b.Do(30*time.Second, chromedp.Navigate(url)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(b.tab, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	if errs := b.ConsoleErrors(); len(errs) > 0 {
		return fmt.Errorf("browser: %s reported errors: %v", url, errs)
	}
	return os.WriteFile(path, png, 0o644)
}

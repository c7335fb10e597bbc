package trace

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"time"
)

// Page is one trial as a page to play in a browser, RaftScope-style: the
// nodes in a ring, coloured by role, each with its term, its vote and its
// election timer running down; messages moving between them in virtual
// time; faults as they are applied; and the trial's swimlanes below, in
// step with a time slider.
type Page struct {
	Title       string
	Command     string   // the command that writes the page, shown on it
	Summary     []string // lines under the title: the verdict and what was measured
	Nodes       int
	ElectionMax time.Duration // the longest election timeout: a full timer arc
	End         time.Duration // when the trial ended; 0: at its last event
	// Events is the whole trace (the event of Seq i at index i), and Details
	// its details: the nodes' states come from all of them, whatever the
	// filter.
	Events  []Event
	Details []Detail
	Filter  *Filter // the events the page lists, animates and draws as lanes; nil: all
}

//go:embed html/page.html html/page.css html/page.js
var pageFiles embed.FS

var pageTemplate = template.Must(template.ParseFS(pageFiles, "html/page.html"))

// WriteHTML writes p as one HTML file that holds every script and style
// it needs: it fetches nothing and opens from disk. The same page gives
// the same bytes.
func WriteHTML(w io.Writer, p *Page) error {
	for i := range p.Events {
		if p.Events[i].Seq != uint64(i) {
			return errors.New("trace: a page needs the whole trace, from its first event")
		}
	}
	var shown []Event
	if p.Filter == nil {
		shown = p.Events
	} else {
		shown = p.Filter.Select(p.Events)
	}
	data, err := json.Marshal(buildPageData(p, shown))
	if err != nil {
		return err
	}
	var lanes bytes.Buffer
	if err := p.lanes().WriteSVG(&lanes, p.Title); err != nil {
		return err
	}
	css, err := pageFiles.ReadFile("html/page.css")
	if err != nil {
		return err
	}
	js, err := pageFiles.ReadFile("html/page.js")
	if err != nil {
		return err
	}
	return pageTemplate.Execute(w, struct {
		Title, Command string
		Summary        []string
		Style          template.CSS
		Data, Script   template.JS
		Lanes          template.HTML
	}{p.Title, p.Command, p.Summary, template.CSS(css), template.JS(data), template.JS(js), template.HTML(lanes.String())})
}

package metrics_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/raftsim/raftsim/internal/study/metrics"
	"github.com/raftsim/raftsim/scenarios"
)

// Example reads three members' metrics and makes the scenario's network
// and disk of them: one-way latency per link and over all links, and the
// disk's write time, whose CSV a scenario reads as empirical:fsync.csv.
func Example() {
	var scrapes []*metrics.Scrape
	for _, n := range []string{"n1", "n2", "n3"} {
		s, err := metrics.Load(context.Background(), "testdata/handmade/heavy-fsync-tail-"+n+".prom")
		if err != nil {
			log.Fatal(err)
		}
		scrapes = append(scrapes, s)
	}
	links, err := metrics.Links(scrapes)
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range links[:2] {
		fmt.Printf("n%d->n%d: %v round trips, one way from %vs\n", l.From+1, l.To+1, l.OneWay.Count(), l.OneWay.Bounds[0])
	}
	network, _ := metrics.Network(scrapes)
	persist, err := metrics.Persist(scrapes)
	if err != nil {
		log.Fatal(err)
	}
	disk, err := persist.Dist("fsync.csv")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v round trips in all; %v fsyncs: %s, mean %v\n", network.Count(), persist.Count(), scenarios.FormatDist(disk), disk.Mean())
	os.Stdout.Write(persist.CSV()[:60])
	// Output:
	// n1->n2: 4000 round trips, one way from 5e-05s
	// n1->n3: 4000 round trips, one way from 5e-05s
	// 12000 round trips in all; 300000 fsyncs: empirical:fsync.csv, mean 3.2775ms
	// le,count
	// 0.001,180000
	// 0.002,285000
	// 0.004,299550
	// 0.008,299700
}

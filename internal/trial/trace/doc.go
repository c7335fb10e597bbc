// Package trace is one trial's event trace: the [Event] a trial driver
// emits for everything that happens (a node booting, a timer firing, a
// state change, a message sent, delivered or dropped, a fault, a
// violation), the stable one-line text form people grep, the one hash of a
// trace, and the writers that turn events into what people and tools read:
// filtered text, JSON lines, the Chrome / Perfetto trace-event format, SVG
// swimlanes, and a self-contained HTML page that plays the trial. A trace
// may come with [Detail]s: what its lines leave out but a picture of the
// trial needs (election timer deadlines, logs, blocked links); they never
// change a line or the hash.
//
// trace only reads events. It never runs a trial, and nothing in it may
// decide an outcome of one: a trial behaves the same traced or not.
package trace

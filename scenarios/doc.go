// Package scenarios is the scenario format: the YAML files that describe
// an experiment (decoded strictly, key by key, from the tables of keys.go,
// which scenarios/README.md documents), the text forms of values that
// files and flags share, the command-line overrides ([Overrides]), the
// validation a scenario passes once before its trials are planned, and the
// built-in scenarios. It also holds what the language means where a
// simulated and a live trial must agree: which nodes a selector picks
// ([Picker]), what a network action does to a [sim.Topology]
// ([Picker.ApplyNetwork]), whether a check step holds ([Judge]), and how an
// unfinished step is reported ([Step.Unfinished]).
//
// It must never run trials, read the clock or print reports; errors on
// user input are [*Error] values naming file, line and field, never panics.
package scenarios

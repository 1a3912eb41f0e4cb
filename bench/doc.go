// Package bench holds gowho's comparative benchmarks (against a bare
// handler, gorilla/sessions, scs and go-guardian), in a module of its own so
// users of gowho never download those libraries.
package bench

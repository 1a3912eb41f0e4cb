// Package memstore keeps sessions in the process's memory: fast, lost at
// restart, not shared between processes. Memory is bounded (entries and
// bytes); expired records are dropped when read or when room is needed,
// and anonymous sessions are evicted (least recently saved first) before
// logged-in ones, in O(1). It indexes sessions by userid, for
// Manager.DestroyUser ("log out everywhere").
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	store = "memory"
//	max_entries = 100000
//
// From Go:
//
//	m, err := session.New(session.Options{Store: memstore.New(memstore.Options{MaxEntries: 100_000})})
package memstore

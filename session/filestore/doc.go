// Package filestore keeps one file per session (mode 0600, named by the
// session id, written atomically through a temporary file and a rename)
// and sweeps expired files. It survives restarts and can be shared by
// processes on one host (or a shared file system). Sessions are indexed
// by userid under data_dir/.users, for Manager.DestroyUser ("log out
// everywhere").
//
// In who.toml:
//
//	[plugin.sessions]
//	use = "session"
//	store = "file"
//	data_dir = "sessions"   # relative to who.toml
//
// From Go:
//
//	st, err := filestore.New(filestore.Options{Dir: "/var/lib/myapp/sessions"})
//	defer st.Close()
//	m, err := session.New(session.Options{Store: st})
package filestore

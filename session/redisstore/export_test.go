package redisstore

// UserKey is userKey, for tests that place keys on cluster nodes.
func (st *Store) UserKey(userid string) string { return st.userKey(userid) }

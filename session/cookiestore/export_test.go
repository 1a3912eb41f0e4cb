package cookiestore

// Revocations returns the number of revocations held (ids remembered),
// for tests of the memory bound.
func (st *Store) Revocations() (ring, ids int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.n, len(st.revoked)
}

// SealV1 seals a cookie in the layout without a sealing time, as stores
// before it did, for the upgrade test.
func (st *Store) SealV1(idRaw [32]byte, exp int64, rec []byte) []byte {
	for i := range st.keys {
		if k := &st.keys[i]; k.v1 {
			plain := make([]byte, headLenV1, headLenV1+len(rec))
			for j := range 8 {
				plain[j] = byte(uint64(exp) >> (56 - 8*j))
			}
			copy(plain[8:], idRaw[:])
			plain = append(plain, rec...)
			out := make([]byte, kidLen+nonceLen)
			copy(out, k.id[:])
			randRead(out[kidLen:])
			return k.aead.Seal(out, out[kidLen:], plain, out[:kidLen])
		}
	}
	return nil
}

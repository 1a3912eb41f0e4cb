package cookiestore

import "crypto/rand"

// randRead fills b with random bytes; crypto/rand.Read never fails.
func randRead(b []byte) { _, _ = rand.Read(b) }

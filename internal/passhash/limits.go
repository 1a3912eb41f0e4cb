package passhash

// MaxBcryptCost is the highest bcrypt cost gowho checks: a stored hash of
// a higher cost never matches and costs no hashing. bcrypt allows 31,
// 2^21 times cost 10: days of one core for one login, and then for every
// unknown user's, whose fake check takes the costliest stored hash's
// cost. 17 is the highest Apache's htpasswd -C makes (128 times cost 10,
// seconds), so no file Apache's tool wrote is refused.
const MaxBcryptCost = 17

// MaxRounds is the most rounds of a SHA-crypt ($5$, $6$) or PBKDF2 hash
// gowho checks: a stored hash of more never matches and costs no hashing
// (SHA-crypt allows 999,999,999 and passlib's PBKDF2 2^32-1: hours of one
// core). It is above every default: Apache's htpasswd -r 5,000, passlib's
// sha512_crypt 656,000 and pbkdf2 SHA-1 131,000; about a second of one
// core for $6$ or $pbkdf2-sha512$.
const MaxRounds = 1_000_000

// Package lru is the one bounded map of gowho's in-process caches: a map
// that drops its least recently used entry when it is full.
//
// A Cache is not safe for concurrent use: its owner holds its own lock.
package lru

import "container/list"

// Cache maps keys to values, holding at most Max entries; the zero value
// is not usable, call New.
type Cache[K comparable, V any] struct {
	max int
	m   map[K]*list.Element
	l   *list.List // of *entry[K, V], most recently used first
}

type entry[K comparable, V any] struct {
	key K
	val V
}

// New returns an empty cache holding at most n entries (at least 1).
func New[K comparable, V any](n int) *Cache[K, V] {
	return &Cache[K, V]{max: max(n, 1), m: make(map[K]*list.Element), l: list.New()}
}

// Get returns key's value, marked most recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	el, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.l.MoveToFront(el)
	return el.Value.(*entry[K, V]).val, true
}

// Peek returns key's value without marking it used.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	el, ok := c.m[key]
	if !ok {
		var zero V
		return zero, false
	}
	return el.Value.(*entry[K, V]).val, true
}

// Put sets key's value, marked most recently used; when the cache is
// full, the least recently used entry is dropped first.
func (c *Cache[K, V]) Put(key K, val V) {
	if el, ok := c.m[key]; ok {
		el.Value.(*entry[K, V]).val = val
		c.l.MoveToFront(el)
		return
	}
	for c.l.Len() >= c.max {
		old := c.l.Back()
		c.l.Remove(old)
		delete(c.m, old.Value.(*entry[K, V]).key)
	}
	c.m[key] = c.l.PushFront(&entry[K, V]{key: key, val: val})
}

// Remove drops key.
func (c *Cache[K, V]) Remove(key K) {
	if el, ok := c.m[key]; ok {
		c.l.Remove(el)
		delete(c.m, key)
	}
}

// Len is the number of entries.
func (c *Cache[K, V]) Len() int { return c.l.Len() }

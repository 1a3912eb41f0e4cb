package lru

import "testing"

func TestCache(t *testing.T) {
	c := New[string, int](2)
	c.Put("a", 1)
	c.Put("b", 2)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	c.Put("c", 3) // b is the least recently used
	if _, ok := c.Peek("b"); ok {
		t.Error("b not dropped")
	}
	c.Peek("a") // Peek does not mark a used: a goes next
	c.Get("c")
	c.Put("a", 10)
	c.Put("d", 4)
	if _, ok := c.Peek("c"); ok {
		t.Error("c kept, a (updated later) should have stayed")
	}
	if v, _ := c.Peek("a"); v != 10 {
		t.Errorf("a = %d, want 10", v)
	}
	c.Remove("a")
	if c.Len() != 1 {
		t.Errorf("Len = %d, want 1", c.Len())
	}
	if New[int, int](0).max != 1 {
		t.Error("max under 1 not raised to 1")
	}
}

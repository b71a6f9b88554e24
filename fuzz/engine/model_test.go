package engine

import "testing"

func TestRenderTemplate(t *testing.T) {
	got := string(RenderTemplate([]byte("Cookie: sid={{sid}}; x={{nope}} {{ not a var }}"), map[string]string{"sid": "abc"}))
	if want := "Cookie: sid=abc; x= {{ not a var }}"; got != want {
		t.Errorf("RenderTemplate = %q, want %q", got, want)
	}
}

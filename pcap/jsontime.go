package pcap

import (
	"encoding/json"
	"strconv"
	"time"
)

// jsonTime writes a time as encoding/json does (RFC 3339 with
// nanoseconds) for any year: a capture's timestamps can lie beyond 9999,
// where time.Time's MarshalJSON fails.
type jsonTime time.Time

func (t jsonTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if y := tt.Year(); y >= 0 && y <= 9999 {
		return tt.MarshalJSON()
	}
	return []byte(strconv.Quote(tt.Format(time.RFC3339Nano))), nil
}

// MarshalJSON writes the flow with its times in any year.
func (f *Flow) MarshalJSON() ([]byte, error) {
	type plain Flow
	return json.Marshal(struct {
		*plain
		First jsonTime `json:"first"`
		Last  jsonTime `json:"last"`
	}{(*plain)(f), jsonTime(f.First), jsonTime(f.Last)})
}

// MarshalJSON writes the summary with its times in any year.
func (s *Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		*plain
		First jsonTime `json:"first"`
		Last  jsonTime `json:"last"`
	}{(*plain)(s), jsonTime(s.First), jsonTime(s.Last)})
}

// MarshalJSON writes the message with its time in any year.
func (m *Message) MarshalJSON() ([]byte, error) {
	type plain Message
	return json.Marshal(struct {
		*plain
		Time jsonTime `json:"time"`
	}{(*plain)(m), jsonTime(m.Time)})
}

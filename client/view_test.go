package client

import (
	"bytes"
	"strings"
	"testing"
	"time"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

func TestWriteJob_Placement(t *testing.T) {
	tests := []struct {
		name, unplaceable, want string
	}{
		{"placeable", "", ""},
		{"unplaceable", "constraint gpu=h100 matches no alive worker",
			"placement  constraint gpu=h100 matches no alive worker: its tasks wait for such a worker\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := JobOf(&pb.JobStatus{JobId: "j1", State: pb.JobState_JOB_STATE_PLANNING, Unplaceable: tt.unplaceable})
			if j.Unplaceable != tt.unplaceable {
				t.Fatalf("JobOf: unplaceable %q, want %q", j.Unplaceable, tt.unplaceable)
			}
			var b bytes.Buffer
			WriteJob(&b, j)
			has := strings.Contains(b.String(), "placement")
			if tt.want == "" && has || tt.want != "" && !strings.Contains(b.String(), tt.want) {
				t.Fatalf("WriteJob:\n%s\nwant the line %q", b.String(), tt.want)
			}
			var js bytes.Buffer
			WriteJSON(&js, j)
			if got := strings.Contains(js.String(), `"unplaceable"`); got != (tt.unplaceable != "") {
				t.Fatalf("JSON:\n%s\nunplaceable present %v, want %v", js.String(), got, !got)
			}
		})
	}
}

func TestWriteMembers_Cooldown(t *testing.T) {
	until := time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC)
	ms := MembersOf([]*pb.Member{
		{Id: "c1", Role: "coordinator", State: "alive"},
		{Id: "w1", Role: "worker", State: "alive", Slots: 2, CooldownUntilUnixMs: until.UnixMilli()},
		{Id: "w2", Role: "worker", State: "alive", Slots: 2},
	})
	if ms[1].CooldownUntil != "2026-12-07T02:30:00Z" || ms[2].CooldownUntil != "" {
		t.Fatalf("MembersOf: cool-downs %q and %q", ms[1].CooldownUntil, ms[2].CooldownUntil)
	}
	var b bytes.Buffer
	WriteMembers(&b, ms)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[0], "COOLDOWN") ||
		!strings.Contains(lines[2], "until 2026-12-07T02:30:00Z") || !strings.Contains(lines[3], " - ") {
		t.Fatalf("WriteMembers:\n%s", b.String())
	}
}

func TestProgressLine_Unplaceable(t *testing.T) {
	st := &pb.JobStatus{JobId: "j1", State: pb.JobState_JOB_STATE_PLANNING, Unplaceable: "constraint gpu=h100 matches no alive worker"}
	want := "tokenmill: job j1: planning: 0/0 shards, 0B read, 0 documents (0 rejected), 0 tokens, 0 tok/s; waiting: constraint gpu=h100 matches no alive worker"
	if got := ProgressLine(st, time.Second); got != want {
		t.Fatalf("ProgressLine = %q, want %q", got, want)
	}
	st.Unplaceable = ""
	if got := ProgressLine(st, time.Second); strings.Contains(got, "waiting") {
		t.Fatalf("ProgressLine = %q, want no waiting", got)
	}
}

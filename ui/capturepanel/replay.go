package capturepanel

// replayReady turns the Replay… button on once engine/replay exists.
const replayReady = false

// replayDialog will configure a replay of the current search.
type replayDialog struct{}

func (p *Panel) onReplay() {}

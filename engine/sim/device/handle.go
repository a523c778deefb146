package device

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
)

// Handle implements sim.Behaviour: it runs every handler whose filter
// matches the command's topic, in the profile's order, and returns the
// messages and waits the runtime must carry out. State changes take
// effect at once, so the next Next already shows them.
func (d *Device) Handle(cmd message.Message, now time.Time) []sim.Effect {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []sim.Effect
	if d.spark != nil {
		if dev, ok := d.spark.commandFor(cmd.Topic); ok {
			out = d.sparkCommand(cmd, dev, now)
		}
	}
	var env *exprEnv // decoded once, for the first handler that matches
	for i, h := range d.prof.handlers {
		if !matches(d.filters[i], cmd.Topic) {
			continue
		}
		if env == nil {
			env = &exprEnv{Payload: decodePayload(cmd.Payload), Topic: cmd.Topic, State: d.state, Vars: d.vars, ID: d.id, Index: d.index, Now: now}
		}
		out = d.run(h, cmd, env, out)
	}
	return out
}

// matches reports whether a handler's filter takes topic; a shared
// subscription's filter matches as its inner filter.
func matches(filter, topic string) bool {
	if filter == "" {
		return false
	}
	if _, inner, shared := message.SharedFilter(filter); shared {
		filter = inner
	}
	return message.MatchTopic(filter, []byte(topic))
}

// run carries out h's actions, appending their effects to out.
func (d *Device) run(h *handlerSpec, cmd message.Message, env *exprEnv, out []sim.Effect) []sim.Effect {
	for i, a := range h.actions {
		if !d.holds(a, env) {
			continue
		}
		switch a.kind {
		case actSet:
			d.set(a, env)
		case actReply:
			out = d.reply(out, a.msg, cmd, env)
		case actPublish:
			m, err := d.build(a.msg, d.commandData(env))
			if err != nil {
				d.setErr(fmt.Errorf("handler %q action %d publish: %w", h.name, i+1, err))
				continue
			}
			out = append(out, sim.Effect{Publish: &m})
		case actDelay:
			out = append(out, sim.Effect{Delay: a.delay})
		case actFail:
			if d.rng(a).Float64()*100 < a.percent {
				if a.msg != nil {
					out = d.reply(out, a.msg, cmd, env)
				}
				return out
			}
		case actStream:
			d.on[a.stream] = a.on
		case actOffline:
			out = append(out, sim.Effect{Offline: a.delay})
		}
	}
	return out
}

// holds reports whether a's condition is met; a condition that cannot be
// evaluated on this command (a field missing, a string where a number was
// expected) is not met, and the reason is kept for Err.
func (d *Device) holds(a *actionSpec, env *exprEnv) bool {
	if a.cond == nil {
		return true
	}
	v, err := runExpr(a.cond, env)
	if err != nil {
		d.setErr(fmt.Errorf("%s: if: %w", a.path, err))
		return false
	}
	ok, _ := v.(bool)
	return ok
}

// set assigns state keys in order; each sees the ones before it.
func (d *Device) set(a *actionSpec, env *exprEnv) {
	for _, s := range a.sets {
		if s.prog != nil {
			v, err := runExpr(s.prog, env)
			if err != nil {
				d.setErr(fmt.Errorf("%s: set %s: %w", a.path, s.key, err))
				continue
			}
			d.state[s.key] = v
			continue
		}
		v, ok := s.path.get(env.Payload)
		if !ok {
			d.setErr(fmt.Errorf("%s: set %s: the command on %s has nothing at that JSON path", a.path, s.key, env.Topic))
			continue
		}
		d.state[s.key] = deepCopy(v)
	}
}

// reply answers cmd: to its response topic with its correlation data when
// the target speaks MQTT 5 and the command asked for it, else to the
// reply's own topic. A reply with neither is not sent.
func (d *Device) reply(out []sim.Effect, m *msgSpec, cmd message.Message, env *exprEnv) []sim.Effect {
	msg, err := d.build(m, d.commandData(env))
	if err != nil {
		d.setErr(fmt.Errorf("reply to %s: %w", cmd.Topic, err))
		return out
	}
	if d.fleet.opt.Protocol >= 5 && cmd.ResponseTopic != "" {
		msg.Topic = cmd.ResponseTopic
		msg.CorrelationData = bytes.Clone(cmd.CorrelationData)
	}
	if msg.Topic == "" {
		d.setErr(fmt.Errorf("reply to %s: the command has no response topic and the reply no topic of its own", cmd.Topic))
		return out
	}
	return append(out, sim.Effect{Publish: &msg})
}

func (d *Device) commandData(env *exprEnv) *tdata {
	data := d.data(env.Now)
	data.Command, data.Topic = env.Payload, env.Topic
	return data
}

// rng is a's random source on this device, seeded like its fields.
func (d *Device) rng(a *actionSpec) *rand.Rand {
	if r := d.rngs[a]; r != nil {
		return r
	}
	if d.rngs == nil {
		d.rngs = map[*actionSpec]*rand.Rand{}
	}
	s := deriveSeed(d.fleet.Seed, d.index, a.path)
	r := rand.New(rand.NewPCG(s, s^0x5851f42d4c957f2d))
	d.rngs[a] = r
	return r
}

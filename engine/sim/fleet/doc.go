// Package fleet runs simulated devices (sim.Behaviour values, compiled by
// engine/sim/device) as real MQTT clients: every device has its own
// connection, client ID, will and session on the target broker, so its
// messages reach the Explorer and the capture like any client's.
//
// One scheduler (a timer heap on one goroutine, sched.go) drives every
// device's streams, the ramp, reconnects with back-off, chaos and the
// delays of command handlers; a few sender goroutines publish (each device
// always on the same one, so its messages keep their order), and a pool of
// connectors dials. A device adds only its MQTT library's goroutines.
// Reconnecting is the runtime's, never the library's, so back-off, chaos
// and Kill share one path. How late each stream message goes out
// (schedule lag) is measured, never hidden.
//
// MQTT 5 devices use paho.golang's bare paho.Client (no autopaho); MQTT
// 3.1.1 devices paho.mqtt.golang with its reconnect and retry off. Every
// MQTT 5 stream message carries the user properties sim-seq (per device)
// and sim-ts (unix ns); Runner.Ingest, fed the broker's tap or a
// monitoring subscription, turns them into delivered, lost and end-to-end
// latency. Connect failures are worded by engine/client (client.Explain).
//
// Cost per connected device, measured by BenchmarkFleet (2,000 devices at
// 1 message/s, against mosquitto in its own process so the figures are
// the simulator's alone; this 2-core machine under a load average of 13,
// so CPU and lag figures are upper bounds):
//
//	                      goroutines  heap      stack     RSS (2,000)  CPU/msg  lag p99
//	MQTT 5 (paho.golang)      3       9.5 KiB   8.8 KiB    62 MiB      58 µs    5 ms
//	MQTT 3.1.1 (paho.mqtt)   10      18.7 KiB  24.9 KiB   108 MiB      75 µs   18 ms
//
// paho.golang would cost 512 KiB more per device: it sizes a channel per
// client by the Receive Maximum the client announces (65,535 when unset),
// so devices announce 16. It also wrote each PUBLISH in four system calls;
// packetConn makes that one, the largest share of the CPU per message
// being that write(2) (loopback TCP does the receiver's work in the
// sender's call). paho.mqtt.golang costs about 2.3 times the memory of
// paho.golang per device (10 goroutines against 3) and 1.3 times the CPU:
// 10,000 MQTT 3.1.1 devices need about 450 MiB, over the 400 MB budget
// that 10,000 MQTT 5 devices (about 200 MiB) meet; a lean 3.1.1 client of
// our own (one reader goroutine, pings from the scheduler) would close it.
package fleet

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
// Cost per connected device, measured by BenchmarkFleet with
// FLEET_BENCH_DEVICES=10000 (10,000 devices at 1 message/s, connecting
// 1,000 a second) against mosquitto in its own process, so the figures are
// the simulator's alone, on this 2-core machine when idle (one run each):
//
//	                      goroutines  heap      stack     RSS      cores  CPU/msg  ramp    lag p99
//	MQTT 5 (paho.golang)      3       10.2 KiB   8.5 KiB  256 MiB  0.33   33 µs    10.3 s  13 ms
//	MQTT 3.1.1 (paho.mqtt)   10       20.4 KiB  24.8 KiB  488 MiB  0.34   34 µs    12.8 s  16 ms
//
// So MQTT 5 fleets meet the budget of 10,000 devices under 0.5 core and
// 400 MB; MQTT 3.1.1 ones meet the CPU budget but not the memory one:
// paho.mqtt.golang costs 2.4 times paho.golang's memory per device (10
// goroutines against 3). A lean 3.1.1 client of our own (one reader
// goroutine, pings from the scheduler) would close that gap.
//
// paho.golang would cost 512 KiB more per device: it sizes a channel per
// client by the Receive Maximum the client announces (65,535 when unset),
// so devices announce 16. It also wrote each PUBLISH in four system calls;
// packetConn makes that one. The largest share of the CPU per message is
// that write(2): loopback TCP does the receiver's work in the sender's
// call.
//
// Against the embedded broker in the same process, 2,000 MQTT 5 devices
// took 388 MiB RSS and 213 µs of CPU per message: about 150 KiB of heap
// and 36 KiB of stack per connection are mochi's side, not the devices'.
package fleet

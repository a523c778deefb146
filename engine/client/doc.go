// Package client connects IoT Studio to other MQTT brokers: it keeps
// connection profiles (and their secrets in the OS keyring), fills them from
// presets for common brokers, opens several connections at once that
// reconnect by themselves, and hands every message they receive to a
// message.Sink, so that remote traffic reaches the topic model and the capture
// like the embedded broker's. MQTT 5 connections use paho.golang's autopaho,
// MQTT 3.1.1 ones paho.mqtt.golang (paho.golang speaks MQTT 5 only); a
// profile with the automatic protocol starts on MQTT 5 and moves to 3.1.1
// for the connection's life when the broker refuses 5 before any CONNACK.
// RepeatFilter keeps what records the traffic from recording again the
// retained messages each reconnect brings back.
// Sender is the one-shot MQTT 5 publisher capture replay sends through.
// All of them reach brokers through the transport subpackage, which also
// gives the embedded broker its WebSocket adapter.
//
// Errors meant for people are *ConnError values whose text says what
// failed, where, and what to do.
package client

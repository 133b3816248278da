import { defineConnectionType } from "@sluice/pipeline/connection-definition";
import { z } from "zod";

// An MQTT broker, for the MQTT source and sink. Browser-safe.

const URL_RE = /^(mqtt|mqtts|ws|wss):\/\/[^\s/@]+(:\d{1,5})?(\/\S*)?$/;

const config = z.strictObject({
  url: z
    .string()
    .min(1)
    .max(2000)
    .regex(URL_RE, "write a broker URL like mqtt://host:1883 (mqtts:// for TLS, ws:// or wss:// for WebSocket)")
    .default("mqtt://127.0.0.1:1883")
    .meta({ label: "Broker URL", help: "mqtt://host:1883, or mqtts:// for TLS (ws://, wss:// for WebSocket)." }),
  username: z.string().min(1).max(1024).optional().meta({ label: "User" }),
  password: z.string().min(1).max(4096).optional().meta({ label: "Password", secret: true }),
  protocolVersion: z.enum(["5", "3.1.1"]).default("5").meta({
    label: "MQTT version",
    help: "5 lets the source hold more unacknowledged messages (Receive Maximum) and expire its session; use 3.1.1 only for brokers without MQTT 5.",
    widget: "select",
    advanced: true,
  }),
  tlsVerify: z.boolean().default(true).meta({
    label: "Verify the broker's certificate",
    help: "Off accepts any certificate: only for testing.",
    advanced: true,
  }),
});

export type MqttConnectionConfig = z.output<typeof config>;

export const mqttConnectionDef = defineConnectionType({
  type: "mqtt",
  title: "MQTT",
  icon: "radio-tower",
  summary: "An MQTT broker (Mosquitto, EMQX, HiveMQ, …), for topics of device and sensor messages.",
  docs: `Connects to an MQTT broker, MQTT 5 by default (3.1.1 for older brokers). The password is kept secret.

**Test** connects and authenticates. **Discovery** cannot list topics (MQTT has no such request): it listens for
two seconds on the topic filter asked for (\`#\` by default) and reports the topics it saw, with sample messages.`,
  config,
  examples: [
    { title: "Local Mosquitto", config: { url: "mqtt://127.0.0.1:1883" } },
    {
      title: "A broker over TLS with a password",
      config: { url: "mqtts://broker.example.com:8883", username: "sluice", password: "…" },
    },
  ],
});

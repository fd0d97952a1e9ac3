import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * A tiny JetStream client for the project's shell scripts, for machines without the `nats` CLI.
 * Runs as a single-file program on the classpath of either service jar (both contain jnats):
 *
 * <pre>
 *   java -cp postgres-producer/target/postgres-producer.jar scripts/lib/NatsTool.java &lt;command&gt; ...
 *
 *   publish  URL SUBJECT TEXT [MSG_ID]  JetStream-publish TEXT; prints "stream seq"
 *   count    URL STREAM [SUBJECT]       messages in STREAM (on SUBJECT); 0 when the stream is missing
 *   last     URL STREAM SUBJECT         headers and body of the last message on SUBJECT; exit 1 if none
 *   lastseq  URL STREAM                 last sequence number of STREAM; 0 when missing
 *   delete   URL STREAM                 deletes STREAM if it exists
 *   lasttime URL STREAM                 epoch seconds (with nanos) when the last message was stored; 0 when none
 *   lasttx   URL STREAM                 "Vrsky-Tx-Id Vrsky-Last-Chunk" headers of the last message; "- -" when none
 *   get      URL STREAM SEQ             headers and body of the message with that sequence; exit 1 if none
 *   lastseqon URL STREAM SUBJECT        sequence of the last message on SUBJECT; 0 when none
 *   replay   URL STREAM SEQ SUBJECT     publishes the body of message SEQ of STREAM (a dead letter) to SUBJECT
 *                                       with header Vrsky-Replay: STREAM-SEQ, so the producer applies it once
 *   leader   URL STREAM                 the server name of the stream's leader on a cluster; "-" when none
 *   replicas URL STREAM                 the stream's configured replicas; 0 when there is no such stream
 * </pre>
 */
public final class NatsTool {

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            usage();
        }
        Options options = new Options.Builder().server(args[1]).connectionTimeout(Duration.ofSeconds(5))
                .maxReconnects(0).build();
        try (Connection nc = Nats.connect(options)) {
            JetStreamManagement jsm = nc.jetStreamManagement();
            switch (args[0]) {
                case "publish" -> {
                    need(args, 4);
                    Headers headers = new Headers();
                    if (args.length > 4) {
                        headers.put("Nats-Msg-Id", args[4]);
                    }
                    PublishAck ack = nc.jetStream().publish(NatsMessage.builder().subject(args[2]).headers(headers)
                            .data(args[3].getBytes(StandardCharsets.UTF_8)).build());
                    System.out.println(ack.getStream() + " " + ack.getSeqno());
                }
                case "count" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    if (info == null) {
                        System.out.println(0);
                    } else if (args.length > 3) {
                        System.out.println(info.getStreamState().getSubjectMap().getOrDefault(args[3], 0L));
                    } else {
                        System.out.println(info.getStreamState().getMsgCount());
                    }
                }
                case "last" -> {
                    need(args, 4);
                    try {
                        print(jsm.getLastMessage(args[2], args[3]));
                    } catch (JetStreamApiException e) {
                        System.err.println("no message on " + args[3] + " in " + args[2] + ": " + e.getMessage());
                        System.exit(1);
                    }
                }
                case "get" -> {
                    need(args, 4);
                    try {
                        print(jsm.getMessage(args[2], Long.parseLong(args[3])));
                    } catch (JetStreamApiException e) {
                        System.err.println("no message " + args[3] + " in " + args[2] + ": " + e.getMessage());
                        System.exit(1);
                    }
                }
                case "lastseqon" -> {
                    need(args, 4);
                    try {
                        System.out.println(jsm.getLastMessage(args[2], args[3]).getSeq());
                    } catch (JetStreamApiException e) {
                        System.out.println(0);
                    }
                }
                case "replay" -> {
                    need(args, 5);
                    MessageInfo dead = jsm.getMessage(args[2], Long.parseLong(args[3]));
                    String replayId = args[2] + "-" + args[3];
                    Headers headers = new Headers().put("Vrsky-Replay", replayId).put("Nats-Msg-Id", "replay:" + replayId);
                    PublishAck ack = nc.jetStream().publish(NatsMessage.builder().subject(args[4]).headers(headers)
                            .data(dead.getData()).build());
                    System.out.println(ack.getStream() + " " + ack.getSeqno() + (ack.isDuplicate() ? " duplicate" : ""));
                }
                case "lastseq" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    System.out.println(info == null ? 0 : info.getStreamState().getLastSequence());
                }
                case "delete" -> {
                    need(args, 3);
                    if (info(jsm, args[2]) != null) {
                        jsm.deleteStream(args[2]);
                    }
                }
                case "lasttime" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    if (info == null || info.getStreamState().getMsgCount() == 0) {
                        System.out.println(0);
                    } else {
                        java.time.Instant t = info.getStreamState().getLastTime().toInstant();
                        System.out.printf("%d.%09d%n", t.getEpochSecond(), t.getNano());
                    }
                }
                case "lasttx" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    if (info == null || info.getStreamState().getMsgCount() == 0) {
                        System.out.println("- -");
                    } else {
                        MessageInfo m = jsm.getMessage(args[2], info.getStreamState().getLastSequence());
                        Headers h = m.getHeaders();
                        System.out.println((h == null ? "-" : h.getFirst("Vrsky-Tx-Id")) + " " + (h == null ? "-" : h.getFirst("Vrsky-Last-Chunk")));
                    }
                }
                case "leader" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    String leader = info == null || info.getClusterInfo() == null ? null : info.getClusterInfo().getLeader();
                    System.out.println(leader == null || leader.isEmpty() ? "-" : leader);
                }
                case "replicas" -> {
                    need(args, 3);
                    StreamInfo info = info(jsm, args[2]);
                    System.out.println(info == null ? 0 : info.getConfiguration().getReplicas());
                }
                default -> usage();
            }
        }
    }

    private static void print(MessageInfo m) {
        if (m.getHeaders() != null) {
            m.getHeaders().entrySet().forEach(e -> System.out.println(e.getKey() + ": " + String.join(",", e.getValue())));
        }
        System.out.println();
        System.out.println(new String(m.getData(), StandardCharsets.UTF_8));
    }

    private static StreamInfo info(JetStreamManagement jsm, String stream) throws Exception {
        try {
            return jsm.getStreamInfo(stream, io.nats.client.api.StreamInfoOptions.allSubjects());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == 10059) {
                return null;
            }
            throw e;
        }
    }

    private static void need(String[] args, int n) {
        if (args.length < n) {
            usage();
        }
    }

    private static void usage() {
        System.err.println(String.join("\n", List.of(
                "usage: NatsTool publish URL SUBJECT TEXT [MSG_ID] | count URL STREAM [SUBJECT] | last URL STREAM SUBJECT",
                "                | lastseq URL STREAM | delete URL STREAM | lasttime URL STREAM | lasttx URL STREAM",
                "                | get URL STREAM SEQ | lastseqon URL STREAM SUBJECT | replay URL STREAM SEQ SUBJECT",
                "                | leader URL STREAM | replicas URL STREAM")));
        System.exit(2);
    }
}

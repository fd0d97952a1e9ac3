package io.vrsky.testing;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.StreamInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A cluster of private {@code nats-server -js} processes on loopback: each node has a free client
 * port, a free cluster (route) port, a store directory of its own and the routes to every other
 * node; the servers are named {@code n1}..{@code nN} in cluster {@code vrsky-it}. Nodes can be
 * killed (SIGKILL, the store stays) and started again on the same ports and store; the leader of
 * a stream is read from JetStream's stream info. {@code start(1)} is a single plain server (no
 * cluster settings): a private nats-server of a test's own.
 *
 * <pre>{@code
 * try (NatsCluster cluster = NatsCluster.start(3)) {
 *     env.put("NATS_URL", cluster.url());          // nats://127.0.0.1:p1,nats://127.0.0.1:p2,...
 *     int leader = cluster.streamLeader("VRSKY_CDC");
 *     cluster.kill(leader);
 *     cluster.restart(leader);
 * }
 * }</pre>
 *
 * <p>Used by one test thread.
 */
public final class NatsCluster implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Path binary;
    private final Path root;
    private final List<Node> nodes = new ArrayList<>();

    private static final class Node {
        final int index;
        final int clientPort;
        final int clusterPort;
        Process process;

        Node(int index, int clientPort, int clusterPort) {
            this.index = index;
            this.clientPort = clientPort;
            this.clusterPort = clusterPort;
        }

        String name() {
            return "n" + index;
        }
    }

    private NatsCluster(Path binary, Path root) {
        this.binary = binary;
        this.root = root;
    }

    /** Whether a nats-server binary is there to start a cluster with (VRSKY_TEST_NATS_BIN or PATH). */
    public static boolean available() {
        return LocalNats.findBinary().isPresent();
    }

    /**
     * Starts {@code size} nodes and waits until JetStream answers (a meta leader is elected).
     *
     * @throws IllegalStateException when no nats-server binary is found or the cluster does not form
     */
    public static NatsCluster start(int size) {
        Path binary = LocalNats.findBinary().orElseThrow(() -> new IllegalStateException(
                "no nats-server binary: put it on PATH or set VRSKY_TEST_NATS_BIN"));
        NatsCluster cluster;
        try {
            cluster = new NatsCluster(binary, Files.createTempDirectory("vrsky-nats-cluster-"));
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a temp dir for the NATS cluster: " + e.getMessage(), e);
        }
        try {
            for (int i = 1; i <= size; i++) {
                cluster.nodes.add(new Node(i, Processes.freePort(), Processes.freePort()));
            }
            for (Node n : cluster.nodes) {
                cluster.launch(n);
            }
            for (Node n : cluster.nodes) {
                Processes.awaitPort("127.0.0.1", n.clientPort, START_TIMEOUT);
            }
            cluster.awaitJetStream();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Every node's client URL, comma-separated: the value for {@code NATS_URL}. */
    public String url() {
        return String.join(",", nodes.stream().map(n -> url(n.index)).toList());
    }

    /** The client URL of node {@code index} (1-based). */
    public String url(int index) {
        return "nats://127.0.0.1:" + node(index).clientPort;
    }

    public int size() {
        return nodes.size();
    }

    /** The server name of node {@code index}: {@code n<index>}. */
    public String serverName(int index) {
        return node(index).name();
    }

    public synchronized boolean isRunning(int index) {
        Process p = node(index).process;
        return p != null && p.isAlive();
    }

    /** SIGKILL to node {@code index}; its store stays for {@link #restart(int)}. */
    public synchronized void kill(int index) {
        Node n = node(index);
        if (n.process != null) {
            n.process.destroyForcibly();
            try {
                if (!n.process.waitFor(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("nats-server " + n.name() + " did not die within 30 s of SIGKILL");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for nats-server " + n.name() + " to die", e);
            }
        }
    }

    /** Starts node {@code index} again on its ports and store and waits until it accepts clients. */
    public synchronized void restart(int index) {
        Node n = node(index);
        if (n.process != null && n.process.isAlive()) {
            throw new IllegalStateException("nats-server " + n.name() + " is running");
        }
        launch(n);
        Processes.awaitPort("127.0.0.1", n.clientPort, START_TIMEOUT);
    }

    /**
     * The node (1-based) that leads {@code stream} now, asked through any running node; empty when
     * no node leads it (an election is under way) or none answers.
     */
    public Optional<Integer> streamLeader(String stream) {
        for (Node n : nodes) {
            if (!isRunning(n.index)) {
                continue;
            }
            try (Connection c = connect(n)) {
                StreamInfo info = c.jetStreamManagement().getStreamInfo(stream);
                ClusterInfo cluster = info.getClusterInfo();
                if (cluster == null || cluster.getLeader() == null) {
                    return Optional.empty();
                }
                return nodes.stream().filter(x -> x.name().equals(cluster.getLeader())).map(x -> x.index).findFirst();
            } catch (IOException | JetStreamApiException e) {
                // this node cannot say (it is cut off or electing): ask the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** Waits until {@code stream} has a leader and returns it (1-based). */
    public int awaitStreamLeader(String stream, Duration atMost) {
        return await("a leader for stream " + stream).atMost(atMost).pollInterval(Duration.ofMillis(200))
                .until(() -> streamLeader(stream), Optional::isPresent).orElseThrow();
    }

    /** The number of replicas {@code stream} was created with. */
    public int replicas(String stream) {
        for (Node n : nodes) {
            if (!isRunning(n.index)) {
                continue;
            }
            try (Connection c = connect(n)) {
                return c.jetStreamManagement().getStreamInfo(stream).getConfiguration().getReplicas();
            } catch (IOException | JetStreamApiException e) {
                // ask the next one
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new IllegalStateException("no node of the cluster could describe stream " + stream);
    }

    /** The log of node {@code index}, for failure messages. */
    public Path log(int index) {
        return root.resolve(node(index).name() + ".log");
    }

    private void awaitJetStream() {
        await("JetStream of the NATS cluster").atMost(START_TIMEOUT).pollInterval(Duration.ofMillis(250)).ignoreExceptions()
                .until(() -> {
                    try (Connection c = connect(nodes.get(0))) {
                        c.jetStreamManagement().getAccountStatistics();
                        return true;
                    }
                });
    }

    private static Connection connect(Node n) throws IOException, InterruptedException {
        return Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + n.clientPort).connectionTimeout(Duration.ofSeconds(2))
                .maxReconnects(0).noReconnect().build());
    }

    private void launch(Node n) {
        List<String> command = new ArrayList<>(List.of(binary.toString(), "-js", "-a", "127.0.0.1", "-p", Integer.toString(n.clientPort),
                "-sd", root.resolve(n.name()).toString(), "--server_name", n.name()));
        if (nodes.size() > 1) { // one node alone is a plain server: a cluster of one never elects a JetStream leader
            command.addAll(List.of("--cluster_name", "vrsky-it", "--cluster", "nats://127.0.0.1:" + n.clusterPort));
        }
        List<String> routes = nodes.stream().filter(o -> o != n).map(o -> "nats://127.0.0.1:" + o.clusterPort).toList();
        if (!routes.isEmpty()) {
            command.add("--routes");
            command.add(String.join(",", routes));
        }
        try {
            n.process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(n.name() + ".log").toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start nats-server " + n.name() + ": " + e.getMessage(), e);
        }
    }

    private Node node(int index) {
        if (index < 1 || index > nodes.size()) {
            throw new IllegalArgumentException("node " + index + " is not in 1.." + nodes.size());
        }
        return nodes.get(index - 1);
    }

    /** Kills every node and deletes the stores. */
    @Override
    public synchronized void close() {
        for (Node n : nodes) {
            if (n.process != null && n.process.isAlive()) {
                n.process.destroyForcibly();
                try {
                    n.process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        Processes.deleteTree(root);
    }
}

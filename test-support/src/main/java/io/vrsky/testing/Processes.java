package io.vrsky.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** Small helpers to run the local server binaries. */
final class Processes {

    private Processes() {
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs a command to completion (as {@code runAs} when we are root and it is not null). */
    static String run(String runAs, List<String> command, Duration timeout) {
        List<String> full = asUser(runAs, command);
        try {
            Path out = Files.createTempFile("vrsky-cmd", ".log");
            Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out after " + timeout + ": " + String.join(" ", full));
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            Files.deleteIfExists(out);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("exit " + p.exitValue() + " from " + String.join(" ", full) + ":\n" + output);
            }
            return output;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", full) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + String.join(" ", full), e);
        }
    }

    static List<String> asUser(String runAs, List<String> command) {
        if (runAs == null || !isRoot()) {
            return command;
        }
        List<String> full = new ArrayList<>(List.of("runuser", "-u", runAs, "--"));
        full.addAll(command);
        return full;
    }

    /**
     * A port nobody listens on, taken below the kernel's ephemeral range (32768+ by default) so that
     * no outgoing connection can grab it between this check and the server's bind.
     */
    static int freePort() {
        java.util.Random random = new java.util.Random();
        for (int i = 0; i < 200; i++) {
            int port = 15_000 + random.nextInt(17_000);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // in use: try another
            }
        }
        throw new IllegalStateException("no free port found in 15000..31999 after 200 tries");
    }

    static void awaitPort(String host, int port, Duration timeout) {
        await("port " + host + ":" + port + " accepting connections").atMost(timeout).pollInterval(Duration.ofMillis(50))
                .ignoreExceptions().until(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(host, port), 200);
                        return true;
                    }
                });
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            System.err.println("could not delete " + root + ": " + e.getMessage());
        }
    }
}

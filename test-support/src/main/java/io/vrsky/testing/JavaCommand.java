package io.vrsky.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one command line every test uses to run a service jar in a child process:
 * {@code <java.home>/bin/java [coverage agent] <jvm options> -jar <jar> <args>}.
 *
 * <p>The coverage agent is the {@code -javaagent} option the build hands to the test JVM in the
 * system property {@value #AGENT_PROPERTY} (JaCoCo's prepare-agent); when the property is absent or
 * blank (a run with {@code -Djacoco.skip=true}, or a test started from an IDE) nothing is added.
 * The child then writes its coverage into the same file as the test JVM, so the service's code run
 * by integration tests counts in the report.
 */
public final class JavaCommand {

    /** The system property holding the agent option for child JVMs. */
    public static final String AGENT_PROPERTY = "vrsky.jacoco.agent";

    private JavaCommand() {
    }

    /** The command for {@code java <jvmOptions> -jar <jar> <args>}, with the coverage agent when the build asked for it. */
    public static List<String> forJar(Path jar, List<String> jvmOptions, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String agent = System.getProperty(AGENT_PROPERTY, "").strip();
        if (!agent.isEmpty()) {
            command.add(agent);
        }
        command.addAll(jvmOptions);
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(args);
        return List.copyOf(command);
    }

    /** {@link #forJar(Path, List, List)} without program arguments. */
    public static List<String> forJar(Path jar, List<String> jvmOptions) {
        return forJar(jar, jvmOptions, List.of());
    }
}

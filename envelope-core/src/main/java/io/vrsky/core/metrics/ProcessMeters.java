package io.vrsky.core.metrics;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;

/**
 * The meters every service exports besides its own: JVM memory, garbage collection, threads,
 * class loading and version ({@code jvm_*}), process CPU, uptime, start time and file descriptors
 * ({@code process_*}, {@code system_cpu_*}), and HikariCP's pool meters ({@code hikaricp_*},
 * through {@link #track(HikariConfig)}). {@link #close()} stops the GC listener.
 */
public final class ProcessMeters implements AutoCloseable {

    private final MeterRegistry registry;
    private final JvmGcMetrics gc;

    private ProcessMeters(MeterRegistry registry, JvmGcMetrics gc) {
        this.registry = registry;
        this.gc = gc;
    }

    /** Binds the JVM and process meters to {@code registry}. */
    public static ProcessMeters bind(MeterRegistry registry) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        return new ProcessMeters(registry, gc);
    }

    /** Makes the pool {@code config} describes export its meters (tag {@code pool} = the pool's name). */
    public HikariConfig track(HikariConfig config) {
        config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        return config;
    }

    @Override
    public void close() {
        gc.close();
    }
}

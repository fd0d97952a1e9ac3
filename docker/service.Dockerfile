# syntax=docker/dockerfile:1.7
# One image recipe for both services; SERVICE picks which (docker-compose.yml passes it):
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=postgres-consumer -t vrsky/postgres-consumer .
#   docker build -f docker/service.Dockerfile --build-arg SERVICE=postgres-producer -t vrsky/postgres-producer .
# Both images also carry the operator's command line, vrsky-admin (docs/admin.md), on PATH:
#   docker compose exec postgres-producer vrsky-admin dlq list
# Build from the repository root (the build needs the parent pom and envelope-core).
#
# Three stages: Maven builds the shaded jar; jlink cuts a JRE down to the modules the jars use;
# the runtime is Alpine with that JRE, the jar and a non-root user. Measured (jlink of the same
# module list, see docs/pipeline.md): JRE 40 MB + jar 14 MB = 54 MB, plus ~8 MB of Alpine.
#
# Configuration is by environment variable only: docs/DB_CONSUMER_GUIDE.md, docs/DB_PRODUCER_GUIDE.md
# and .env.example list them with their defaults.
# JVM options: JAVA_OPTS, read once by the entrypoint (not by the JVM itself, so it prints no
# "Picked up ..." line before the service's first log line). Its default: C1 only and the serial
# collector (see docs/benchmark.md, "JVM options": measured faster and smaller on 1-2 vCPU), the
# heap capped at 75 % of the container's memory limit, exit on OutOfMemoryError. Set JAVA_OPTS to
# replace them all (e.g. add -Xmx256m to the defaults).
# Base images are named by tag, not pinned by digest: pin them (MAVEN_IMAGE, JDK_IMAGE, BASE_IMAGE
# as name@sha256:...) in a build that must be reproducible.
# Exit codes: 0 clean stop (SIGTERM), 1 unexpected, 2 bad configuration, 3 dependency still down
# after retries, 4 data/protocol error.

ARG SERVICE=postgres-consumer
ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
ARG JDK_IMAGE=eclipse-temurin:17-jdk-alpine
ARG BASE_IMAGE=alpine:3.20

# ---- 1. build ----------------------------------------------------------------------------------
FROM ${MAVEN_IMAGE} AS build
ARG SERVICE
WORKDIR /src
COPY pom.xml ./
COPY envelope-core/pom.xml envelope-core/
COPY test-support/pom.xml test-support/
COPY postgres-consumer/pom.xml postgres-consumer/
COPY postgres-producer/pom.xml postgres-producer/
COPY vrsky-admin/pom.xml vrsky-admin/
COPY pipeline-tests/pom.xml pipeline-tests/
COPY envelope-core/src envelope-core/src
COPY test-support/src test-support/src
# vrsky-admin's tests run the producer, so the reactor builds both services' modules for it
COPY postgres-consumer/src postgres-consumer/src
COPY postgres-producer/src postgres-producer/src
COPY vrsky-admin/src vrsky-admin/src
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -q -pl "${SERVICE},vrsky-admin" -am -Dmaven.test.skip=true package \
 && cp "${SERVICE}/target/${SERVICE}.jar" /service.jar \
 && cp vrsky-admin/target/vrsky-admin.jar /vrsky-admin.jar

# ---- 2. a JRE with only the modules the jar needs ----------------------------------------------
# jdeps --ignore-missing-deps --multi-release 17 --print-module-deps <service>.jar prints
# java.base,java.desktop,java.naming,java.net.http,java.security.jgss,java.sql,jdk.httpserver,
# jdk.management,jdk.unsupported. java.desktop (11 MB) is left out: only Jackson's optional
# java.beans support (loaded behind a guard) and pgjdbc's PGpoint.setLocation(java.awt.Point)
# refer to it. jdk.crypto.ec is added for TLS with EC cipher suites, which jdeps cannot see.
# java.sql brings java.logging, java.xml and java.transaction.xa; jdk.management brings
# java.management. Verified: both jars pass every end-to-end scenario on this runtime.
FROM ${JDK_IMAGE} AS jre
ARG JRE_MODULES=java.base,java.naming,java.net.http,java.security.jgss,java.sql,jdk.crypto.ec,jdk.httpserver,jdk.management,jdk.unsupported
RUN jlink --add-modules "${JRE_MODULES}" --strip-debug --no-man-pages --no-header-files --compress=2 \
          --output /opt/jre

# ---- 3. runtime --------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG SERVICE
LABEL org.opencontainers.image.title="vrsky ${SERVICE}"
RUN apk add --no-cache zlib \
 && addgroup -S -g 10001 vrsky \
 && adduser -S -D -H -u 10001 -G vrsky -s /sbin/nologin vrsky
COPY --from=jre /opt/jre /opt/jre
COPY --from=build /service.jar /app/${SERVICE}.jar
COPY --from=build /vrsky-admin.jar /app/vrsky-admin.jar
# vrsky-admin on PATH; JVM option variables a user may set are dropped for it, so that the JVM's
# "Picked up ..." notes never mix into a command's output
RUN printf '%s\n' '#!/bin/sh' 'unset JDK_JAVA_OPTIONS JAVA_TOOL_OPTIONS' \
      'exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar /app/vrsky-admin.jar "$@"' >/usr/local/bin/vrsky-admin \
 && chmod 755 /usr/local/bin/vrsky-admin
ENV JAVA_HOME=/opt/jre \
    PATH=/opt/jre/bin:$PATH \
    HEALTH_PORT=8080 \
    VRSKY_JAR=/app/${SERVICE}.jar \
    JAVA_OPTS="-XX:+UseSerialGC -XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
USER 10001:10001
WORKDIR /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=40s --retries=3 \
  CMD wget -q -O /dev/null "http://127.0.0.1:${HEALTH_PORT}/health/ready" || exit 1
STOPSIGNAL SIGTERM
# exec form cannot expand variables; sh execs java, so java is PID 1 and gets SIGTERM itself
# (JAVA_OPTS unquoted: its options are words)
ENTRYPOINT ["/bin/sh", "-c", "exec java $JAVA_OPTS -jar \"$VRSKY_JAR\""]

#!/bin/sh
# Nightly PostgreSQL backup (compose service `backup`): pg_dump in custom format, files
# older than BACKUP_KEEP_DAYS removed. Restore: see docs/deploy.md (pg_restore).
# Copy /backups off the machine too (restic, rclone, object storage…): a backup kept on
# the same disk as the database is no backup.
set -eu
every="${BACKUP_EVERY_SECONDS:-86400}"
keep="${BACKUP_KEEP_DAYS:-14}"
until pg_isready -q; do sleep 2; done
while :; do
    file="/backups/tec-$(date -u +%Y%m%dT%H%M%SZ).dump"
    if pg_dump --format=custom --no-owner --file="$file.partial"; then
        mv "$file.partial" "$file"
        echo "backup written: $file"
    else
        rm -f "$file.partial"
        echo "backup FAILED" >&2
    fi
    find /backups -name 'tec-*.dump' -mtime +"$keep" -exec rm -f {} +
    sleep "$every"
done

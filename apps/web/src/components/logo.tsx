export function Logo({ small = false }: { small?: boolean }) {
  return (
    <span className={small ? "logo logo-small" : "logo"}>
      <svg viewBox="0 0 32 32" width={small ? 22 : 30} height={small ? 22 : 30} aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="var(--accent)" />
        <path
          d="M7 11h8c3 0 3 4 6 4h4M7 17h5c3 0 3 4 6 4h7"
          stroke="#fff"
          strokeWidth="2.4"
          fill="none"
          strokeLinecap="round"
        />
      </svg>
      <span className="logo-text">Sluice</span>
    </span>
  );
}

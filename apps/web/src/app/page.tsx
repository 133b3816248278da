import { redirect } from "next/navigation";
import { currentUser } from "@/server/caller";

export default async function Home(): Promise<never> {
  redirect((await currentUser()) ? "/overview" : "/signin");
}
